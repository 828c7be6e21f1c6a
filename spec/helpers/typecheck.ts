// Type-checks files the way a TypeScript user of the package would (strict, node16 modules),
// with the repository's own compiler; answers tsc's complaints, empty when there are none.

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const TSC = resolve(__dirname, "../../node_modules/typescript/bin/tsc");

export function typeCheck(
  dir: string,
  files: readonly string[],
  options: { skipLibCheck: boolean },
): string {
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: "node16",
        moduleResolution: "node16",
        target: "ES2022",
        esModuleInterop: true,
        skipLibCheck: options.skipLibCheck,
        types: ["node"],
      },
      files,
    }),
  );
  try {
    execFileSync(process.execPath, [TSC, "-p", dir], { encoding: "utf8" });
    return "";
  } catch (error) {
    return String((error as { stdout?: string }).stdout);
  }
}
