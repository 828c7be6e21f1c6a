// Opens the database the sidecar reads: read-only at the session level (PostgreSQL refuses any
// write in such a session; SQLite's query_only does the same), with a per-statement timeout,
// and with failures turned into one line that says what is wrong.

import { access, constants } from "node:fs/promises";
import { createRequire } from "node:module";
import knexFactory, { type Knex } from "knex";
import { describeError, type Logger } from "../logger";
import { maskCredentials } from "../redact";
import { existingTables } from "../storage/existing-tables";
import { CliError, usageError } from "./errors";
import { knexLog } from "./knex-log";

export interface DatabaseTarget {
  kind: "postgres" | "sqlite";
  /** The URL or path as given. */
  location: string;
  /** The same with any password masked, for messages and logs. */
  display: string;
}

const SUPPORTED_TARGETS =
  "a postgres:// or postgresql:// URL, or a SQLite file path (optionally as sqlite:<path>)";

/**
 * Reads `--database` (or `--state-database`, or DATABASE_URL). A URL of any other scheme is
 * refused: read as a SQLite path, `pg://root:secret@host` would be opened as a file and its
 * password printed in the error. Only the scheme is named in that refusal; every `display`
 * has its password masked, whatever the scheme.
 */
export function parseDatabaseTarget(value: string): DatabaseTarget {
  // A scheme is two characters or more: `C:\...` is a Windows path, not a URL.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(value)?.[1]?.toLowerCase();
  const postgresUrl = /^postgres(ql)?:\/\//i.test(value);
  if (scheme !== undefined && scheme !== "sqlite" && !postgresUrl) {
    const form = /^postgres(ql)?$/.test(scheme) ? `"${scheme}:" without //` : `"${scheme}:"`;
    throw usageError(`unsupported database URL ${form}: give ${SUPPORTED_TARGETS}`);
  }
  if (postgresUrl) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw usageError("the PostgreSQL URL could not be parsed");
    }
    if (url.password) url.password = "***";
    // node-pg takes passwords from the query string too.
    for (const name of [...url.searchParams.keys()]) {
      if (/pass/i.test(name)) url.searchParams.set(name, "***");
    }
    return { kind: "postgres", location: value, display: maskCredentials(url.toString()) };
  }
  const path = value.replace(/^sqlite:(\/\/)?/i, "");
  if (path === "") throw usageError("the SQLite path is empty");
  return { kind: "sqlite", location: path, display: maskCredentials(path) };
}

const DRIVERS = { postgres: "pg", sqlite: "sqlite3" } as const;

/**
 * Loads the driver knex will use for `kind`, as knex itself will (from knex's own folder), so
 * that a missing one is one line saying what to install, not knex's "Knex: run" and a stack.
 */
export function requireDriver(kind: DatabaseTarget["kind"]): void {
  const driver = DRIVERS[kind];
  try {
    createRequire(require.resolve("knex"))(driver);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === "MODULE_NOT_FOUND"
        ? "is not installed"
        : `cannot be loaded (${String(describeError(error).message ?? "unknown error")})`;
    const name = kind === "postgres" ? "PostgreSQL" : "SQLite";
    throw new CliError(`the ${name} driver ${why}: install ${driver} (npm install ${driver})`);
  }
}

export interface OpenOptions {
  /** PostgreSQL statement_timeout in ms; 0 means none. */
  statementTimeoutMs: number;
  /** Refuse writes in every session. The demo's seeding turns this off for its own database. */
  readOnly: boolean;
  /** Where knex's own warnings go (one line each, without SQL). */
  logger: Logger;
  /** Connections in the pool. */
  poolMax?: number;
}

/** A knex instance for the target; nothing is connected until the first query. */
export async function openDatabase(target: DatabaseTarget, options: OpenOptions): Promise<Knex> {
  requireDriver(target.kind);
  const log = knexLog(options.logger);
  if (target.kind === "postgres") {
    // Set on each new session, after the connection string's own settings: a URL carrying
    // `?options=-c default_transaction_read_only=off` or `?statement_timeout=0` must not undo
    // them (node-pg lets URL parameters win over connection options).
    const timeout = Math.trunc(options.statementTimeoutMs);
    const session = [
      ...(options.readOnly ? ["SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"] : []),
      `SET statement_timeout = ${timeout}`,
      "SET application_name = 'synapse-admin-statistics'",
    ].join("; ");
    return knexFactory({
      client: "pg",
      connection: { connectionString: target.location, connectionTimeoutMillis: 10_000 },
      pool: {
        min: 0,
        max: options.poolMax ?? 10,
        afterCreate: (
          connection: PostgresConnection,
          done: (error: Error | null, connection: unknown) => void,
        ) => {
          // knex does not close a connection whose set-up failed: its open socket would keep
          // the process alive.
          connection.query(session, (error) => {
            if (error) connection.end(() => done(error, connection));
            else done(null, connection);
          });
        },
      },
      acquireConnectionTimeout: 15_000,
      log,
    });
  }
  if (options.readOnly) {
    // Opening a missing file would create an empty database: say so instead.
    try {
      await access(target.location, constants.R_OK);
    } catch {
      throw new CliError(`cannot open SQLite database ${target.display}: no such readable file`);
    }
  }
  return knexFactory({
    client: "sqlite3",
    connection: { filename: target.location },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (connection: SqliteConnection, done: (error: Error | null) => void) => {
        // query_only refuses every write; busy_timeout waits out Synapse's own write locks.
        const pragmas = options.readOnly
          ? "PRAGMA query_only = ON; PRAGMA busy_timeout = 5000;"
          : "PRAGMA busy_timeout = 5000;";
        connection.exec(pragmas, (error) => {
          if (error) connection.close(() => done(error));
          else done(null);
        });
      },
    },
    log,
  });
}

interface PostgresConnection {
  query(sql: string, callback: (error: Error | null) => void): void;
  end(callback: () => void): void;
}

interface SqliteConnection {
  exec(sql: string, callback: (error: Error | null) => void): void;
  close(callback: () => void): void;
}

/** The tables a Synapse database must have for the sidecar to serve anything. */
export const REQUIRED_TABLES = ["local_media_repository", "profiles", "users", "access_tokens"];

/**
 * Connects once and checks the Synapse tables are there (`tables`, by default those the
 * sidecar needs), so a wrong URL or a wrong database fails at start with a clear line rather
 * than on the first request.
 */
export async function checkSynapseDatabase(
  db: Knex,
  target: DatabaseTarget,
  tables: readonly string[] = REQUIRED_TABLES,
): Promise<void> {
  let present: Set<string>;
  try {
    present = await existingTables(db, target.kind, tables);
  } catch (error) {
    throw new CliError(explainConnectionError(error, target));
  }
  const missing = tables.filter((table) => !present.has(table));
  if (missing.length > 0) {
    throw new CliError(
      `${target.display} is not a Synapse database: missing table${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
    );
  }
}

/** One line saying why a connection failed, without the password. */
export function explainConnectionError(error: unknown, target: DatabaseTarget): string {
  const code = (error as { code?: unknown }).code;
  const message = String(describeError(error).message ?? error);
  const where = target.display;
  switch (code) {
    case "ECONNREFUSED":
      return `cannot connect to ${where}: connection refused (is PostgreSQL running there?)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot connect to ${where}: unknown host`;
    case "ETIMEDOUT":
      return `cannot connect to ${where}: connection timed out`;
    case "28P01":
      return `cannot connect to ${where}: password authentication failed`;
    case "28000":
      return `cannot connect to ${where}: the server refused the role (${message})`;
    case "3D000":
      return `cannot connect to ${where}: ${message}`;
    case "SQLITE_CANTOPEN":
      return `cannot open SQLite database ${where}`;
    case "SQLITE_NOTADB":
      return `${where} is not a SQLite database`;
    default:
      // node-pg's words when the server asks for a password (SCRAM) and the URL has none.
      if (/client password must be a string/i.test(message)) {
        return `cannot connect to ${where}: the server asks for a password and the URL has none`;
      }
      if (/Timeout acquiring a connection/i.test(message)) {
        return `cannot connect to ${where}: timed out`;
      }
      return `cannot use ${where}: ${message}`;
  }
}
