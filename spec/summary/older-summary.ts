// A summary as 0.1 and 0.2 installed it: the per-user part alone, without the storage part.

import type { Knex } from "knex";
import { installMediaUsageSummary } from "../../lib";
import { knexRunner } from "../../lib/sql";
import { inspectPostgresStorage, postgresStorageDrops } from "../../lib/summary/storage-postgres";
import { inspectSqliteStorage, sqliteStorageDrops } from "../../lib/summary/storage-sqlite";
import type { DatabaseKind } from "../helpers/databases";

/** Drops the storage part of an installed summary, leaving the per-user part as it is. */
export async function dropStoragePart(knex: Knex, kind: DatabaseKind): Promise<void> {
  const run = knexRunner(knex, kind);
  const statements =
    kind === "postgres"
      ? postgresStorageDrops("public", await inspectPostgresStorage(run, "public"))
      : sqliteStorageDrops(await inspectSqliteStorage(run));
  for (const statement of statements) await knex.raw(statement);
}

/** Installs the summary as 0.2 did: the per-user part only. */
export async function installOlderSummary(knex: Knex, kind: DatabaseKind): Promise<void> {
  await installMediaUsageSummary(knex);
  await dropStoragePart(knex, kind);
}
