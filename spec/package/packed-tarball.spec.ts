// The package as users get it: `npm pack`, unpacked into a fresh project, then loaded with
// require() and import, type-checked from TypeScript in every module resolution mode, and asked
// a real request. Installing it must run nothing: no lifecycle script, a prebuilt dist/.

import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { NODE16, typeCheck, type ModuleSettings } from "../helpers/typecheck";

const root = resolve(__dirname, "../..");
let project: string;
let installed: string;

const run = (file: string, args: string[] = []): string =>
  execFileSync(process.execPath, [...args, file], { cwd: project, encoding: "utf8" }).trim();

// --ignore-scripts: `prepack` would rebuild dist/ while other test files run the CLI from it.
beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "sas-consumer-"));
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", project], {
      cwd: root,
      encoding: "utf8",
    }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = join(project, packed[0]?.filename ?? "");
  installed = join(project, "node_modules", "synapse-admin-statistics");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
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
  "detectStorageSummary",
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
  "storageReportSchema",
  "synapseAccessTokenAuth",
  "synapseDelegatedAuth",
  "uninstallMediaUsageSummary",
  "usersMediaQuerySchema",
  "usersMediaResponseSchema",
  "verifyMediaUsageSummary",
  "verifyStorageSummary",
];

const packedFiles = (): string[] => {
  const listing = JSON.parse(
    execFileSync("npm", ["pack", "--ignore-scripts", "--dry-run", "--json"], {
      cwd: root,
      encoding: "utf8",
    }),
  ) as Array<{ files: Array<{ path: string }> }>;
  return listing[0]?.files.map((file) => file.path) ?? [];
};

test("the tarball holds the build, the README, the changelog and the license, and no tests or sources", () => {
  const paths = packedFiles();
  for (const expected of [
    "dist/lib/index.js",
    "dist/lib/index.mjs",
    "dist/lib/index.d.ts",
    "dist/lib/index.d.mts",
    "dist/lib/cli/main.js",
    "dist/fixtures/index.js",
    "dist/fixtures/index.mjs",
    "dist/fixtures/index.d.ts",
    "README.md",
    "CHANGELOG.md",
    "LICENSE",
    "package.json",
  ]) {
    expect(paths).toContain(expected);
  }
  expect(paths.some((path) => path.startsWith("spec/") || path.startsWith("lib/"))).toBe(false);
});

// A map pointing at lib/*.ts, which the tarball does not ship, only misleads a debugger.
test("the tarball has no source maps", () => {
  expect(packedFiles().filter((path) => path.endsWith(".map"))).toEqual([]);
});

// npm runs preinstall, install and postinstall of a registry package, prepare of a tarball or
// git one (and node-gyp for a binding.gyp); npm 11 asks the consumer to allow each of them.
test("installing the tarball runs no lifecycle script", () => {
  const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
    gypfile?: boolean;
  };
  const scripts = Object.keys(manifest.scripts ?? {});
  expect(
    scripts.filter((name) => ["preinstall", "install", "postinstall", "prepare"].includes(name)),
  ).toEqual([]);
  expect(manifest.gypfile).toBeUndefined();
  expect(readdirSync(installed)).not.toContain("binding.gyp");
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

// Only the CLI logs through pino: a library user's process never loads it.
test("loading the package, by require() or import, loads no pino and no CLI module", () => {
  writeFileSync(
    join(project, "loaded.cjs"),
    `require("synapse-admin-statistics");
     const loaded = Object.keys(require.cache);
     console.log(JSON.stringify(loaded.filter((path) => /[\\/](pino[^\\/]*|cli)[\\/]/.test(path))));`,
  );
  writeFileSync(
    join(project, "loaded.mjs"),
    `import "synapse-admin-statistics";
     import { createRequire } from "node:module";
     const loaded = Object.keys(createRequire(import.meta.url).cache);
     console.log(JSON.stringify({
       router: loaded.some((path) => path.endsWith("router.js")),
       unwanted: loaded.filter((path) => /[\\/](pino[^\\/]*|cli)[\\/]/.test(path)),
     }));`,
  );
  expect(JSON.parse(run("loaded.cjs"))).toEqual([]);
  expect(JSON.parse(run("loaded.mjs"))).toEqual({ router: true, unwanted: [] });
});

const CONSUMER = `
  import express from "express";
  import knex from "knex";
  import { createStatisticsRouter, synapseAccessTokenAuth, synapseDelegatedAuth, MatrixError, type AuthCheck, type SynapseDelegatedAuthOptions, type UsersMediaResponse } from "synapse-admin-statistics";
  import { createSynapseSchema, STANDARD_TOKENS, type MediaRow } from "synapse-admin-statistics/fixtures";
  const db = knex({ client: "sqlite3", connection: { filename: ":memory:" }, useNullAsDefault: true });
  const authCheck: AuthCheck = async (token) => (token === "t" ? { userId: "@a:b", admin: true } : null);
  const app = express();
  app.use("/_synapse/admin", createStatisticsRouter({ knex: db, authCheck }));
  app.use("/x", createStatisticsRouter({ knex: db, authCheck: synapseAccessTokenAuth(db), cors: false }));
  const delegated: SynapseDelegatedAuthOptions = { baseUrl: "http://localhost:8008", cacheTtlMs: 0 };
  app.use("/y", createStatisticsRouter({ knex: db, authCheck: synapseDelegatedAuth(delegated) }));
  const body: UsersMediaResponse = { users: [], total: 0 };
  const error: MatrixError = new MatrixError(400, "M_INVALID_PARAM", "x");
  void createSynapseSchema(db);
  const token: string = STANDARD_TOKENS.admin;
  // @ts-expect-error admin must be a boolean
  const wrong: AuthCheck = () => ({ userId: "@a:b", admin: 1 });
  // @ts-expect-error media_id must be a string
  const row: MediaRow = { media_id: 1, user_id: null, media_length: null, created_ts: null };
  export { body, error, wrong, token, row };
`;

// Each way a consumer's tsconfig can resolve modules, with the files it compiles. The first also
// checks the shipped declarations themselves (skipLibCheck off); the others, resolution alone.
const RESOLUTION_MODES: Array<[string, ModuleSettings, string[]]> = [
  ["node16, CommonJS and ES modules", NODE16, ["consumer.cts", "consumer.mts"]],
  [
    "nodenext",
    { module: "nodenext", moduleResolution: "nodenext" },
    ["nodenext.cts", "nodenext.mts"],
  ],
  ["bundler", { module: "esnext", moduleResolution: "bundler" }, ["bundler.ts"]],
  ["node10 (--module commonjs)", { module: "commonjs", moduleResolution: "node10" }, ["node10.ts"]],
];

test.each(RESOLUTION_MODES)(
  "a TypeScript consumer type-checks against the shipped declarations: %s",
  (mode, modules, files) => {
    for (const file of files) writeFileSync(join(project, file), CONSUMER);
    const output = typeCheck(project, files, {
      skipLibCheck: modules !== NODE16,
      modules,
      configName: `tsconfig.${mode.split(/[^\w]/)[0]}.json`,
    });
    expect(output).toBe("");
  },
  60_000,
);

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
  const bin = join(installed, "dist", "lib", "cli", "main.js");
  const version = (
    JSON.parse(execFileSync("cat", [join(root, "package.json")], { encoding: "utf8" })) as {
      version: string;
    }
  ).version;
  expect(
    execFileSync(process.execPath, [bin, "--version"], { cwd: project, encoding: "utf8" }).trim(),
  ).toBe(version);
});
