// Issue 11, item 10: without `pg` or `sqlite3` installed, every command says which driver to
// install, with the npm command, in one line (not "Knex: run", not a require stack).

import { join, resolve } from "node:path";
import { createSqliteSynapseFile, runCliToEnd, type SqliteSynapseFile } from "../helpers/cli";
import { postgresServerUrl } from "../helpers/databases";

const HIDE = resolve(__dirname, "../helpers/hide-modules.cjs");
const without = (driver: string) => ({
  NODE_OPTIONS: `--require ${HIDE}`,
  HIDE_MODULES: driver,
});

let database: SqliteSynapseFile;
let sqliteFile: string;
beforeAll(async () => {
  database = await createSqliteSynapseFile();
  sqliteFile = database.file;
});
afterAll(() => database?.remove());

function expectInstallLine(result: ReturnType<typeof runCliToEnd>, driver: "pg" | "sqlite3"): void {
  expect(result.status).toBe(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`install ${driver}\\b.*npm install ${driver}`));
  expect(result.stderr + result.stdout).not.toMatch(/Knex: run|Require stack|\n\s+at /);
}

test("serve on PostgreSQL without pg says: install pg", () => {
  const result = runCliToEnd(
    ["serve", "--listen", "127.0.0.1:0", "--database", postgresServerUrl()],
    without("pg"),
  );
  expectInstallLine(result, "pg");
});

test("serve on SQLite without sqlite3 says: install sqlite3", () => {
  const result = runCliToEnd(
    ["serve", "--listen", "127.0.0.1:0", "--database", sqliteFile],
    without("sqlite3"),
  );
  expectInstallLine(result, "sqlite3");
});

test("demo without sqlite3 says: install sqlite3", () => {
  const result = runCliToEnd(
    ["demo", "--listen", "127.0.0.1:0", "--data-dir", join(database.dir, "demo")],
    without("sqlite3"),
  );
  expectInstallLine(result, "sqlite3");
});

test("summary verify without pg says: install pg", () => {
  const result = runCliToEnd(
    ["summary", "verify", "--database", postgresServerUrl()],
    without("pg"),
  );
  expectInstallLine(result, "pg");
});

test("summary verify without sqlite3 says: install sqlite3", () => {
  const result = runCliToEnd(["summary", "verify", "--database", sqliteFile], without("sqlite3"));
  expectInstallLine(result, "sqlite3");
});
