// Type-checks files the way a TypeScript user of the package would (strict, node16 modules unless
// told otherwise), with the repository's own compiler; answers tsc's complaints, empty when
// there are none.

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const TSC = resolve(__dirname, "../../node_modules/typescript/bin/tsc");

/** How a consumer's tsconfig may resolve modules: each is a `module`/`moduleResolution` pair. */
export interface ModuleSettings {
  module: string;
  moduleResolution: string;
}

export const NODE16: ModuleSettings = { module: "node16", moduleResolution: "node16" };

export function typeCheck(
  dir: string,
  files: readonly string[],
  options: { skipLibCheck: boolean; modules?: ModuleSettings; configName?: string },
): string {
  const config = join(dir, options.configName ?? "tsconfig.json");
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        ...(options.modules ?? NODE16),
        target: "ES2022",
        esModuleInterop: true,
        skipLibCheck: options.skipLibCheck,
        types: ["node"],
      },
      files,
    }),
  );
  try {
    execFileSync(process.execPath, [TSC, "-p", config], { encoding: "utf8" });
    return "";
  } catch (error) {
    return String((error as { stdout?: string }).stdout);
  }
}
