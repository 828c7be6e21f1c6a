// The documentation's examples are real, on every page (README.md and docs/*.md, a new page
// included without editing this file): every TypeScript block type-checks against the built
// package, and every block marked `<!-- readme-example: NAME -->` runs. The `mount` example
// must serve a request; any other marked example must run to completion without a word on
// stderr, given a Synapse-shaped PostgreSQL database in DATABASE_URL.

import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import {
  createSynapseSchema,
  createScratchPostgres,
  freePort,
  insertAccounts,
  insertMedia,
  openSqlite,
  STANDARD_ACCOUNTS,
  STANDARD_TOKENS,
  type ScratchDatabase,
} from "../../fixtures";
import { postgresServerUrl } from "../helpers/databases";
import {
  documentationPages,
  exampleMarkers,
  ROOT,
  typeScriptExamples,
  type Example,
} from "../helpers/docs";
import { typeCheck } from "../helpers/typecheck";

// Inside the package, so that `synapse-admin-statistics` resolves to this package's build.
const workDir = join(ROOT, "spec", ".tmp", `docs-${process.pid}`);
const pages = documentationPages();
const examples = pages.flatMap(typeScriptExamples);
const marked = examples.filter((example): example is Example & { name: string } =>
  Boolean(example.name),
);
const fileName = (example: Example): string =>
  `${example.page.replace(/[^\w]/g, "_")}-${example.index}`;

beforeAll(() => mkdirSync(workDir, { recursive: true }));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

test("the README shows how to mount the router, and every example marker names a block", () => {
  expect(marked.some((example) => example.page === "README.md" && example.name === "mount")).toBe(
    true,
  );
  const markers = pages.flatMap(exampleMarkers);
  expect(marked.map((example) => example.name).sort()).toEqual([...markers].sort());
  expect(new Set(markers).size).toBe(markers.length);
});

test("every TypeScript example of every page type-checks against the package", () => {
  const files = examples.map((example) => {
    const file = join(workDir, `${fileName(example)}.mts`);
    writeFileSync(file, `${example.code}\nexport {};\n`);
    return file;
  });
  expect(typeCheck(workDir, files, { skipLibCheck: true })).toBe("");
}, 120_000);

describe.each(marked.map((example) => [`${example.name} (${example.page})`, example] as const))(
  "the example %s",
  (_title, example) => {
    let database: ScratchDatabase;
    beforeAll(async () => {
      database = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_docs" });
      await createSynapseSchema(database.knex);
      await insertAccounts(database.knex, STANDARD_ACCOUNTS);
      await insertMedia(database.knex, [
        { media_id: "r1", user_id: "@reader:test", media_length: 42, created_ts: 1 },
      ]);
    });
    afterAll(() => database.drop());

    // An ES module, so that top-level await works as it does in the type-checked .mts files.
    const compile = (): string => {
      const file = join(workDir, `${fileName(example)}.mjs`);
      const { outputText } = ts.transpileModule(example.code, {
        compilerOptions: {
          module: ts.ModuleKind.ES2022,
          target: ts.ScriptTarget.ES2022,
          esModuleInterop: true,
        },
      });
      writeFileSync(file, outputText);
      return file;
    };

    const start = (env: Record<string, string>) => {
      const child = spawn(process.execPath, [compile()], {
        env: { ...process.env, DATABASE_URL: database.url, ...env },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      return { child, stderr: () => stderr };
    };

    if (example.name === "mount") {
      test.each(["PostgreSQL", "SQLite"])(
        "runs as written on %s and serves the admin API",
        async (kind) => {
          const port = await freePort();
          const sqliteFile = join(workDir, "mount-example.sqlite");
          if (kind === "SQLite") {
            rmSync(sqliteFile, { force: true });
            const sqlite = openSqlite(sqliteFile);
            try {
              await createSynapseSchema(sqlite);
              await insertAccounts(sqlite, STANDARD_ACCOUNTS);
              await insertMedia(sqlite, [
                { media_id: "r1", user_id: "@reader:test", media_length: 42, created_ts: 1 },
              ]);
            } finally {
              await sqlite.destroy();
            }
          }
          const { child, stderr } = start({
            PORT: String(port),
            ...(kind === "SQLite" ? { DATABASE_URL: sqliteFile } : {}),
          });
          try {
            const url = `http://127.0.0.1:${port}/_synapse/admin/v1/statistics/users/media`;
            let response: Response | undefined;
            for (let attempt = 0; attempt < 100 && response === undefined; attempt++) {
              response = await fetch(url, {
                headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` },
              }).catch(
                () => new Promise<undefined>((done) => setTimeout(() => done(undefined), 100)),
              );
            }
            expect(stderr()).toBe("");
            expect(response?.status).toBe(200);
            expect(await response?.json()).toEqual({
              users: [
                { user_id: "@reader:test", displayname: null, media_count: 1, media_length: 42 },
              ],
              total: 1,
            });
          } finally {
            child.kill();
          }
        },
        30_000,
      );
    } else {
      test("runs as written to completion", async () => {
        const { child, stderr } = start({});
        try {
          // "close", not "exit": stderr is complete only once its pipe has closed.
          const code = await new Promise<number | null>((done) => child.once("close", done));
          expect({ code, stderr: stderr() }).toEqual({ code: 0, stderr: "" });
        } finally {
          child.kill();
        }
      }, 60_000);
    }
  },
);
