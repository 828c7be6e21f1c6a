// Which of Synapse's tables a database has, as an unqualified query would find them: what the
// CLI checks before it reads anything, and what decides which storage gauges exist.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { knexRunner } from "../sql";

/** The names among `tables` that exist (PostgreSQL: on the search_path). */
export async function existingTables(
  db: Knex,
  dialect: Dialect,
  tables: readonly string[],
): Promise<Set<string>> {
  const run = knexRunner(db, dialect);
  const rows =
    dialect === "postgres"
      ? await run.rows<{ name: string }>(
          "SELECT t AS name FROM unnest(?::text[]) AS t WHERE to_regclass(t) IS NOT NULL",
          [tables],
        )
      : await run.rows<{ name: string }>(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${tables.map(() => "?").join(", ")})`,
          tables,
        );
  return new Set(rows.map((row) => row.name));
}
