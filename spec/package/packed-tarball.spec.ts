// The package as users get it: `npm pack`, unpacked into a fresh project, then loaded with
// require() and import, type-checked from TypeScript, and asked a real request.

import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { typeCheck } from "../helpers/typecheck";

const root = resolve(__dirname, "../..");
let project: string;

const run = (file: string, args: string[] = []): string =>
  execFileSync(process.execPath, [...args, file], { cwd: project, encoding: "utf8" }).trim();

// --ignore-scripts: `prepare` would rebuild dist/ while other test files run the CLI from it.
beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "sas-consumer-"));
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", project], {
      cwd: root,
      encoding: "utf8",
    }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = join(project, packed[0]?.filename ?? "");
  const target = join(project, "node_modules", "synapse-admin-statistics");
  mkdirSync(target, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"]);
  // The consumer's other dependencies (express, knex, sqlite3, ajv...) are this repository's.
  for (const entry of readdirSync(join(root, "node_modules"))) {
    if (entry === "synapse-admin-statistics" || entry.startsWith(".")) continue;
    symlinkSync(join(root, "node_modules", entry), join(project, "node_modules", entry));
  }
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true }));
}, 120_000);

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

const EXPORTS = [
  "EXTENSION_NAMESPACE",
  "Errcode",
  "MEDIA_USAGE_SUMMARY_TABLE",
  "MatrixError",
  "MediaUsageSummaryError",
  "STATISTICS_PATHS",
  "buildOpenApiDocument",
  "consoleLogger",
  "createStatisticsRouter",
  "detectMediaUsageSummary",
  "installMediaUsageSummary",
  "largestMediaQuerySchema",
  "largestMediaResponseSchema",
  "largestRoomsResponseSchema",
  "matrixErrorSchema",
  "remoteOriginsQuerySchema",
  "remoteOriginsResponseSchema",
  "roomsQuerySchema",
  "silentLogger",
  "storageOverviewResponseSchema",
  "synapseAccessTokenAuth",
  "uninstallMediaUsageSummary",
  "usersMediaQuerySchema",
  "usersMediaResponseSchema",
  "verifyMediaUsageSummary",
];

test("the tarball holds the build, the README and the license, and no tests or sources", () => {
  const listing = JSON.parse(
    execFileSync("npm", ["pack", "--ignore-scripts", "--dry-run", "--json"], {
      cwd: root,
      encoding: "utf8",
    }),
  ) as Array<{ files: Array<{ path: string }> }>;
  const paths = listing[0]?.files.map((file) => file.path) ?? [];
  for (const expected of [
    "dist/lib/index.js",
    "dist/lib/index.mjs",
    "dist/lib/index.d.ts",
    "dist/lib/index.d.mts",
    "dist/fixtures/index.js",
    "dist/fixtures/index.mjs",
    "README.md",
    "LICENSE",
    "package.json",
  ]) {
    expect(paths).toContain(expected);
  }
  expect(paths.some((path) => path.startsWith("spec/") || path.startsWith("lib/"))).toBe(false);
});

test("require() of the package gives the public API", () => {
  writeFileSync(
    join(project, "cjs.cjs"),
    `const api = require("synapse-admin-statistics");
     const fixtures = require("synapse-admin-statistics/fixtures");
     console.log(JSON.stringify({ keys: Object.keys(api).sort(), fixtures: typeof fixtures.createSynapseSchema }));`,
  );
  expect(JSON.parse(run("cjs.cjs"))).toEqual({ keys: EXPORTS, fixtures: "function" });
});

test("import of the package gives the same objects as require()", () => {
  writeFileSync(
    join(project, "esm.mjs"),
    `import * as api from "synapse-admin-statistics";
     import { createStatisticsRouter } from "synapse-admin-statistics";
     import { createSynapseSchema } from "synapse-admin-statistics/fixtures";
     import { createRequire } from "node:module";
     const cjs = createRequire(import.meta.url)("synapse-admin-statistics");
     console.log(JSON.stringify({
       keys: Object.keys(api).sort(),
       same: createStatisticsRouter === cjs.createStatisticsRouter && api.MatrixError === cjs.MatrixError,
       fixtures: typeof createSynapseSchema,
     }));`,
  );
  expect(JSON.parse(run("esm.mjs"))).toEqual({ keys: EXPORTS, same: true, fixtures: "function" });
});

test("a TypeScript consumer type-checks against the shipped declarations, CJS and ESM", () => {
  const source = `
    import express from "express";
    import knex from "knex";
    import { createStatisticsRouter, synapseAccessTokenAuth, MatrixError, type AuthCheck, type UsersMediaResponse } from "synapse-admin-statistics";
    import { createSynapseSchema } from "synapse-admin-statistics/fixtures";
    const db = knex({ client: "sqlite3", connection: { filename: ":memory:" }, useNullAsDefault: true });
    const authCheck: AuthCheck = async (token) => (token === "t" ? { userId: "@a:b", admin: true } : null);
    const app = express();
    app.use("/_synapse/admin", createStatisticsRouter({ knex: db, authCheck }));
    app.use("/x", createStatisticsRouter({ knex: db, authCheck: synapseAccessTokenAuth(db), cors: false }));
    const body: UsersMediaResponse = { users: [], total: 0 };
    const error: MatrixError = new MatrixError(400, "M_INVALID_PARAM", "x");
    void createSynapseSchema(db);
    // @ts-expect-error admin must be a boolean
    const wrong: AuthCheck = () => ({ userId: "@a:b", admin: 1 });
    export { body, error, wrong };
  `;
  writeFileSync(join(project, "consumer.cts"), source);
  writeFileSync(join(project, "consumer.mts"), source);
  const output = typeCheck(project, ["consumer.cts", "consumer.mts"], { skipLibCheck: false });
  expect(output).toBe("");
}, 60_000);

test("the unpacked package serves a request from a CommonJS app on SQLite", () => {
  cpSync(join(root, "spec/package/consumer-app.cjs"), join(project, "app.cjs"));
  expect(JSON.parse(run("app.cjs"))).toEqual({
    status: 200,
    body: {
      users: [{ user_id: "@a:test", displayname: null, media_count: 1, media_length: 7 }],
      total: 1,
    },
  });
}, 60_000);

test("the packed command runs: --version answers the package version", () => {
  const bin = join(
    project,
    "node_modules",
    "synapse-admin-statistics",
    "dist",
    "lib",
    "cli",
    "main.js",
  );
  const version = (
    JSON.parse(execFileSync("cat", [join(root, "package.json")], { encoding: "utf8" })) as {
      version: string;
    }
  ).version;
  expect(
    execFileSync(process.execPath, [bin, "--version"], { cwd: project, encoding: "utf8" }).trim(),
  ).toBe(version);
});
