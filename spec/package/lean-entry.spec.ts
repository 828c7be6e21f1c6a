// The router's import graph stays small: prom-client (and the rest of the metrics listener)
// is the CLI's alone. A host app that mounts the router never loads it.

import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

const dist = resolve(__dirname, "../../dist/lib");

/** Whether requiring `entry` in a fresh Node process loads prom-client. */
function loadsPromClient(entry: string): boolean {
  const output = execFileSync(
    process.execPath,
    [
      "-e",
      `require(${JSON.stringify(entry)});
       console.log(Object.keys(require.cache).some((path) => /[\\\\/]node_modules[\\\\/]prom-client[\\\\/]/.test(path)));`,
    ],
    { encoding: "utf8" },
  );
  return output.trim() === "true";
}

test("requiring the package entry does not load prom-client", () => {
  expect(loadsPromClient(resolve(dist, "index.js"))).toBe(false);
});

test("the CLI's metrics module does load it (the check above can fail)", () => {
  expect(loadsPromClient(resolve(dist, "cli/metrics.js"))).toBe(true);
});
