// The sidecar docs' TypeScript examples type-check against the built package.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { typeCheck } from "../helpers/typecheck";

const root = resolve(__dirname, "../..");
// Inside the package, so that `synapse-admin-statistics` resolves to this package's build.
const workDir = join(root, "spec", ".tmp", `sidecar-docs-${process.pid}`);

beforeAll(() => mkdirSync(workDir, { recursive: true }));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

test("every TypeScript example in docs/delegated-auth.md type-checks against the package", () => {
  const text = readFileSync(join(root, "docs", "delegated-auth.md"), "utf8");
  const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");
  expect(blocks.length).toBeGreaterThanOrEqual(1);
  const files = blocks.map((block, index) => {
    const file = join(workDir, `delegated-${index}.mts`);
    writeFileSync(file, `${block}\nexport {};\n`);
    return file;
  });
  expect(typeCheck(workDir, files, { skipLibCheck: true })).toBe("");
}, 60_000);
