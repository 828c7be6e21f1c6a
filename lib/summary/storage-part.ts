// Drops the storage part of an installed summary and nothing else, leaving a summary as 0.1
// and 0.2 installed it: what the specs and benchmarks of the upgrade start from. Not
// exported from the package: operators uninstall the whole summary.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { knexRunner } from "../sql";
import { inspectPostgresStorage, postgresStorageDrops } from "./storage-postgres";
import { inspectSqliteStorage, sqliteStorageDrops } from "./storage-sqlite";

/** On PostgreSQL, for media tables in the `public` schema. */
export async function dropStoragePart(db: Knex, dialect: Dialect): Promise<void> {
  const run = knexRunner(db, dialect);
  const statements =
    dialect === "postgres"
      ? postgresStorageDrops("public", await inspectPostgresStorage(run, "public"))
      : sqliteStorageDrops(await inspectSqliteStorage(run));
  for (const statement of statements) await db.raw(statement);
}
