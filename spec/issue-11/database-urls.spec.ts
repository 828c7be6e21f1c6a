// Issue 11, item 4: a database URL of a scheme the CLI does not support is refused in one line
// that names the supported ones, and no message ever shows a `user:password@`.

import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCliToEnd } from "../helpers/cli";
import { TEST_SECRETS } from "../helpers/test-run";

const PASSWORD = TEST_SECRETS.urlPassword;
const SUPPORTED = /postgres:\/\/.*postgresql:\/\/.*SQLite/;

function expectOneLine(result: ReturnType<typeof runCliToEnd>): string {
  expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0] ?? "";
}

describe("a URL of an unsupported scheme is refused in one line naming the supported ones", () => {
  test.each([
    ["pg://", `pg://root:${PASSWORD}@127.0.0.1:5432/synapse`],
    ["mysql://", `mysql://root:${PASSWORD}@127.0.0.1:3306/synapse`],
    ["postgres: without //", `postgres:root:${PASSWORD}@127.0.0.1/synapse`],
    ["postgresql: without //", `postgresql:root:${PASSWORD}@127.0.0.1/synapse`],
    ["https://", `https://root:${PASSWORD}@db.example/synapse`],
  ])("--database %s", (_case, url) => {
    const result = runCliToEnd(["serve", "--listen", "127.0.0.1:0", "--database", url]);
    expect(result.status).toBe(2);
    const line = expectOneLine(result);
    expect(line).toMatch(/^synapse-admin-statistics: unsupported database URL/);
    expect(line).toMatch(SUPPORTED);
    expect(line).not.toMatch(/SQLite database/);
  });

  test("--state-database pg://", () => {
    const result = runCliToEnd([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--database",
      join(tmpdir(), "sas-no-such.db"),
      "--state-database",
      `pg://root:${PASSWORD}@127.0.0.1/synapse_state`,
    ]);
    expect(result.status).toBe(2);
    expect(expectOneLine(result)).toMatch(SUPPORTED);
  });

  test("DATABASE_URL=mysql://", () => {
    const result = runCliToEnd(["serve", "--listen", "127.0.0.1:0"], {
      DATABASE_URL: `mysql://root:${PASSWORD}@127.0.0.1/synapse`,
    });
    expect(result.status).toBe(2);
    expect(expectOneLine(result)).toMatch(SUPPORTED);
  });

  test("summary verify --database mysql://", () => {
    const result = runCliToEnd([
      "summary",
      "verify",
      "--database",
      `mysql://root:${PASSWORD}@127.0.0.1/synapse`,
    ]);
    expect(result.status).toBe(2);
    expect(expectOneLine(result)).toMatch(SUPPORTED);
  });
});

describe("user:password@ is masked in every message, whatever the scheme", () => {
  test("a SQLite path that holds one", () => {
    const path = join(tmpdir(), `sas-root:${PASSWORD}@nowhere-${process.pid}.db`);
    const result = runCliToEnd(["serve", "--listen", "127.0.0.1:0", "--database", path]);
    expect(result.status).toBe(1);
    expect(expectOneLine(result)).toMatch(/cannot open SQLite database .*root:\*\*\*@nowhere/);
  });

  test("a sqlite:// URL that holds one", () => {
    const result = runCliToEnd([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--database",
      `sqlite://root:${PASSWORD}@nowhere/synapse.db`,
    ]);
    expect(result.status).toBe(1);
    expect(expectOneLine(result)).toMatch(/root:\*\*\*@nowhere/);
  });

  test("a PostgreSQL URL whose password holds an @", () => {
    const result = runCliToEnd([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--database",
      `postgres://stats:${PASSWORD}@x@127.0.0.1:1/synapse`,
    ]);
    expect(result.status).toBe(1);
    const line = expectOneLine(result);
    expect(line).not.toContain("x@127");
    expect(line).toMatch(/postgres:\/\/stats:\*\*\*@127\.0\.0\.1:1\/synapse/);
  });
});
