// The PostgreSQL server a benchmark runs on: --database, else TEST_PG_URL / DATABASE_URL, else
// an embedded one kept under bench-results/ so large data sets survive between runs.

import { join } from "node:path";
import type { Knex } from "knex";
import {
  createPostgresDatabase,
  openPostgres,
  startEmbeddedPostgres,
  withDatabase,
  type EmbeddedPostgresServer,
} from "../fixtures";

export async function openBenchPostgres(
  serverUrl: string | undefined,
  database: string,
  resultsDir: string,
): Promise<{ db: Knex; embedded?: EmbeddedPostgresServer }> {
  let server = serverUrl ?? process.env.TEST_PG_URL ?? process.env.DATABASE_URL;
  let embedded: EmbeddedPostgresServer | undefined;
  if (!server) {
    process.stdout.write("Starting an embedded PostgreSQL (kept in bench-results/postgres)...\n");
    embedded = await startEmbeddedPostgres({
      dataDir: join(resultsDir, "postgres"),
      persistent: true,
    });
    server = embedded.url;
  }
  const admin = openPostgres(server, { min: 0, max: 1 });
  try {
    const exists = await admin.raw<{ rows: unknown[] }>(
      "SELECT 1 FROM pg_database WHERE datname = ?",
      [database],
    );
    if (exists.rows.length === 0) await createPostgresDatabase(server, database);
  } finally {
    await admin.destroy();
  }
  return {
    db: openPostgres(withDatabase(server, database), { min: 0, max: 8 }),
    ...(embedded ? { embedded } : {}),
  };
}
