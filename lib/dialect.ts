// Tells which database a knex instance talks to, from its dialect and driver name: the
// dialect alone cannot tell, because CockroachDB and Redshift say `postgresql` too.

import type { Knex } from "knex";

export type Dialect = "postgres" | "sqlite";

const POSTGRES_DRIVERS = new Set(["pg", "pgnative"]);
// better-sqlite3 is left out until this package is tested on it.
const SQLITE_DRIVERS = new Set(["sqlite3"]);

/** The dialect of a knex instance, or undefined for a database this package cannot read. */
export function detectDialect(db: Knex): Dialect | undefined {
  const client = db.client as Partial<Pick<Knex.Client, "dialect" | "driverName">> | undefined;
  if (client === undefined) return undefined;
  if (client.dialect === "postgresql" && POSTGRES_DRIVERS.has(client.driverName ?? "")) {
    return "postgres";
  }
  if (client.dialect === "sqlite3" && SQLITE_DRIVERS.has(client.driverName ?? "")) {
    return "sqlite";
  }
  return undefined;
}

/** `dialect/driver` of a knex instance, for messages. */
export function describeClient(db: Knex): string {
  const client = db.client as Partial<Pick<Knex.Client, "dialect" | "driverName">> | undefined;
  return `${client?.dialect ?? "unknown"}/${client?.driverName ?? "unknown"}`;
}

export const isPostgres = (db: Knex): boolean => detectDialect(db) === "postgres";
export const isSqlite = (db: Knex): boolean => detectDialect(db) === "sqlite";

/** Whether a value is a knex instance: a function carrying its client. */
export function isKnexInstance(value: unknown): value is Knex {
  const client = (value as { client?: unknown } | null)?.client;
  return typeof value === "function" && typeof client === "object" && client !== null;
}
