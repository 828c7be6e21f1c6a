// Fills local_media_repository with millions of Synapse-shaped rows inside the database itself
// (generate_series on PostgreSQL, a recursive CTE on SQLite), for timing the summary's backfill
// at sizes a row-by-row insert from Node could not reach in minutes.

import type { Knex } from "knex";
import { createSynapseSchema, fixtureDialect } from "../fixtures";

export interface BulkMediaOptions {
  rows: number;
  /** About this many distinct uploaders, most uploads going to a few of them. */
  uploaders: number;
}

/**
 * Creates Synapse's tables and `rows` media rows: sizes log-normal (median about 200 KB,
 * capped at Synapse's 2 GB), timestamps over three years, uploads skewed towards the first
 * users. Synapse's indexes are built after the load, then the table is analysed (and vacuumed
 * on PostgreSQL), as a long-lived database would be.
 */
export async function createBulkMediaDatabase(db: Knex, options: BulkMediaOptions): Promise<void> {
  await createSynapseSchema(db);
  await db.raw("DROP INDEX users_have_local_media");
  await db.raw("DROP INDEX local_media_repository_media_id_key");
  if (fixtureDialect(db) === "postgres") {
    // power(random(), 2.5) piles the uploads onto low user numbers, and still reaches nearly
    // every one of `uploaders` at these sizes.
    await db.raw(
      `INSERT INTO local_media_repository (media_id, media_type, media_length, created_ts, upload_name, user_id)
       SELECT 'bulk' || g, 'image/jpeg',
              least(2147483647, exp(12.2 + 2 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::int,
              1700000000000 + (random() * 94608000000)::bigint,
              'file' || g,
              '@user' || floor(?::int * power(random(), 2.5))::int || ':example.org'
         FROM generate_series(1, ?::int) AS g`,
      [options.uploaders, options.rows],
    );
  } else {
    // SQLite has neither ln() nor power() in every build: a product of two uniform numbers
    // skews the users, and an exponential of a uniform one spreads the sizes.
    await db.raw(
      `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
       INSERT INTO local_media_repository (media_id, media_type, media_length, created_ts, upload_name, user_id)
       SELECT 'bulk' || i, 'image/jpeg',
              abs(random()) % 400000 + abs(random()) % 4 * (abs(random()) % 50000000),
              1700000000000 + abs(random()) % 94608000000,
              'file' || i,
              '@user' || CAST(? * ((abs(random()) % 1000000) / 1000000.0) * ((abs(random()) % 1000000) / 1000000.0) AS INTEGER) || ':example.org'
         FROM g`,
      [options.rows, options.uploaders],
    );
  }
  await db.raw(
    "CREATE UNIQUE INDEX local_media_repository_media_id_key ON local_media_repository (media_id)",
  );
  await db.raw(
    "CREATE INDEX users_have_local_media ON local_media_repository (user_id, created_ts)",
  );
  await db.raw(
    fixtureDialect(db) === "postgres" ? "VACUUM ANALYZE local_media_repository" : "ANALYZE",
  );
}
