// The storage endpoints' benchmark database: local media, about two remote media per local one
// from a Zipf-distributed set of origins, thumbnails for most images (local and remote), and
// a small share of quarantined media and URL previews. Generated inside the database
// (INSERT ... SELECT over a number series) rather than row by row from JavaScript: 10M local
// rows come with 20M remote ones and some 50M thumbnails. Every value is an integer hash of the
// row's number, spelled alike on both dialects, so PostgreSQL and SQLite hold the same rows
// (floating-point sizes aside, to the last unit); built once, then reused by its marker.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Knex } from "knex";
import {
  createSynapseSchema,
  fixtureDialect,
  insertAccounts,
  openSqlite,
  realisticOrigins,
  REALISTIC_END_TS,
  type EmbeddedPostgresServer,
} from "../fixtures";
import { REMOTE_TYPES } from "../fixtures/realistic-storage";
import { BENCH_ADMIN_TOKEN } from "./media-database";
import { openBenchPostgres } from "./postgres";

export const STORAGE_SCALES = {
  S: { local: 100_000, uploaders: 2_000, origins: 1_500 },
  M: { local: 1_000_000, uploaders: 20_000, origins: 1_500 },
  L: { local: 10_000_000, uploaders: 100_000, origins: 3_000 },
} as const;
export type StorageScale = keyof typeof STORAGE_SCALES;

/** Remote media per local media. */
export const REMOTE_PER_LOCAL = 2;
export { BENCH_ADMIN_TOKEN };
export const STORAGE_END_TS = REALISTIC_END_TS;
/** The uploader with the most media, and the origin with the most (Zipf rank 1 of each). */
export const TOP_UPLOADER = "@u1:bench.example";

// Bumped whenever the generated data changes, so an outdated cached database is rebuilt.
const STORAGE_GENERATOR_VERSION = 1;
const MARKER = "sas_bench_storage_info";
const YEAR_MS = 365 * 24 * 3600 * 1000;
const SPAN_MS = 3 * YEAR_MS;
const MAX_LENGTH = 2_147_483_647;
/** Rows per statement: progress to report, and no series larger than this held at once. */
const CHUNK = 1_000_000;

/** The origin holding the most remote media. */
export function topOrigin(scale: StorageScale, seed: number): string {
  return realisticOrigins(STORAGE_SCALES[scale].origins, seed)[0] as string;
}

/** Where a benchmark keeps this data set: its own PostgreSQL database, or its SQLite file. */
export async function openStorageDatabase(
  dialect: "postgres" | "sqlite",
  scale: StorageScale,
  seed: number,
  options: { resultsDir: string; serverUrl?: string | undefined },
): Promise<{ db: Knex; embedded?: EmbeddedPostgresServer }> {
  if (dialect === "sqlite") {
    const dir = join(options.resultsDir, "data");
    mkdirSync(dir, { recursive: true });
    return { db: openSqlite(join(dir, `storage-overview-${scale}-${seed}.sqlite`)) };
  }
  return openBenchPostgres(
    options.serverUrl,
    `sas_bench_overview_${scale.toLowerCase()}_${seed}`,
    options.resultsDir,
  );
}

/** Whether the database already holds this exact data set (its marker is written last). */
export async function holdsStorageDataset(
  db: Knex,
  scale: StorageScale,
  seed: number,
): Promise<boolean> {
  try {
    const row = await db(MARKER).first<{ scale: string; seed: number; version: number }>();
    return (
      row?.scale === scale &&
      Number(row.seed) === seed &&
      Number(row.version) === STORAGE_GENERATOR_VERSION
    );
  } catch {
    return false;
  }
}

/** Builds the data set unless the database holds it already. */
export async function ensureStorageDataset(
  db: Knex,
  scale: StorageScale,
  seed: number,
  log: (message: string) => void,
): Promise<void> {
  if (await holdsStorageDataset(db, scale, seed)) return;
  log(`Building the storage data set ${scale} (seed ${seed}) on ${fixtureDialect(db)}...`);
  await buildStorageDataset(db, scale, seed, log);
}

/**
 * Loads the data set into a database that is empty or holds an older build (dropped first),
 * then analyses it.
 */
export async function buildStorageDataset(
  db: Knex,
  scale: StorageScale,
  seed: number,
  log: (message: string) => void,
): Promise<void> {
  const dialect = fixtureDialect(db);
  const shape = STORAGE_SCALES[scale];
  const started = Date.now();
  await dropEverything(db);
  await createSynapseSchema(db);
  await insertAccounts(db, [
    { userId: "@bench-admin:bench.example", admin: true, tokens: [{ token: BENCH_ADMIN_TOKEN }] },
  ]);
  const origins = realisticOrigins(shape.origins, seed);
  await db.schema.createTable("sas_bench_origins", (table) => {
    table.integer("origin_rank").primary();
    table.text("origin");
  });
  for (let index = 0; index < origins.length; index += 500) {
    await db("sas_bench_origins").insert(
      origins.slice(index, index + 500).map((origin, offset) => ({
        origin_rank: index + offset + 1,
        origin,
      })),
    );
  }

  await withBulkLoad(db, async (run) => {
    const remote = shape.local * REMOTE_PER_LOCAL;
    // The media in chunks of the series; the thumbnails in one pass over their media table.
    const steps: Array<[string, number, (low: number, high: number) => string]> = [
      ["local_media_repository", shape.local, (lo, hi) => localMedia(dialect, seed, shape, lo, hi)],
      ["remote_media_cache", remote, (lo, hi) => remoteMedia(dialect, seed, shape, lo, hi)],
      ["local_media_repository_thumbnails", 1, () => thumbnails("local", seed)],
      ["remote_media_cache_thumbnails", 1, () => thumbnails("remote", seed)],
    ];
    for (const [table, rows, statement] of steps) {
      const tableStarted = Date.now();
      for (let low = 1; low <= rows; low += CHUNK) {
        await run(statement(low, Math.min(rows, low + CHUNK - 1)));
      }
      log(`  ${table}: ${((Date.now() - tableStarted) / 1000).toFixed(1)} s`);
    }
    await run(`INSERT INTO local_media_repository_url_cache
                 (url, response_code, expires_ts, og, media_id, download_ts)
               SELECT url_cache, 200, created_ts + 86400000, '{"og:title": "A page"}', media_id,
                      created_ts
                 FROM local_media_repository WHERE url_cache IS NOT NULL`);
  });
  await db.schema.dropTable("sas_bench_origins");
  log("  analysing");
  if (dialect === "postgres") await db.raw("VACUUM ANALYZE");
  else await db.raw("ANALYZE");
  await db.schema.createTable(MARKER, (table) => {
    table.string("scale");
    table.integer("seed");
    table.integer("version");
  });
  await db(MARKER).insert({ scale, seed, version: STORAGE_GENERATOR_VERSION });
  log(`  built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function dropEverything(db: Knex): Promise<void> {
  if (fixtureDialect(db) === "postgres") {
    await db.raw("DROP SCHEMA public CASCADE");
    await db.raw("CREATE SCHEMA public");
    return;
  }
  const tables = (await db.raw(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  )) as Array<{ name: string }>;
  for (const { name } of tables) await db.schema.dropTable(name);
}

/**
 * Runs the load statements with the bulk loader's settings. PostgreSQL: the media tables'
 * indexes are dropped first and built again after (a sort each, far faster than 80M random
 * inserts), same names and definitions. SQLite: one connection with a large page cache, which
 * keeps the indexes it must update in memory.
 */
async function withBulkLoad(
  db: Knex,
  load: (run: (statement: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  if (fixtureDialect(db) === "sqlite") {
    await db.transaction(async (trx) => {
      await trx.raw("PRAGMA cache_size = -4000000");
      await load(async (statement) => {
        await trx.raw(statement);
      });
    });
    await db.raw("PRAGMA cache_size = -2000");
    return;
  }
  const tables = [
    "local_media_repository",
    "remote_media_cache",
    "local_media_repository_thumbnails",
    "remote_media_cache_thumbnails",
  ];
  const constraints = (
    await db.raw<{ rows: Array<{ relation: string; name: string; definition: string }> }>(
      `SELECT conrelid::regclass::text AS relation, conname AS name,
              pg_get_constraintdef(oid) AS definition
         FROM pg_constraint WHERE conrelid = ANY(?::regclass[]) AND contype = 'u'`,
      [tables],
    )
  ).rows;
  const indexes = (
    await db.raw<{ rows: Array<{ name: string; definition: string }> }>(
      `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = ANY(?)
          AND indexname <> ALL(?)`,
      [tables, constraints.map((constraint) => constraint.name)],
    )
  ).rows;
  for (const { relation, name } of constraints) {
    await db.raw(`ALTER TABLE ${relation} DROP CONSTRAINT ${name}`);
  }
  for (const { name } of indexes) await db.raw(`DROP INDEX ${name}`);
  await load(async (statement) => {
    await db.raw(statement);
  });
  await db.transaction(async (trx) => {
    await trx.raw("SET LOCAL maintenance_work_mem = '1GB'");
    for (const { definition } of indexes) await trx.raw(definition);
    for (const { relation, name, definition } of constraints) {
      await trx.raw(`ALTER TABLE ${relation} ADD CONSTRAINT ${name} ${definition}`);
    }
  });
}

// --- Values from the row number, alike on both dialects ----------------------------------

/**
 * A hash of integer expression `n` into [0, 2147483629), stream `k`: two multiplications
 * modulo different primes, every product below 2^63 on both dialects. Good enough for data
 * whose distributions matter and whose randomness does not.
 */
function hash(n: string, seed: number, k: number): string {
  const p = 48271 + 7919 * (k + 31 * seed);
  const q = 16807 + 104729 * (k + 1) + 13 * seed;
  return `((((${n}) * ${p}) % 2147483647) * ${q} % 2147483629)`;
}

/** A uniform number in (0, 1] from stream `k`. */
function uniform(n: string, seed: number, k: number): string {
  return `(CAST(${hash(n, seed, k)} + 1 AS DOUBLE PRECISION) / 2147483629)`;
}

/** A standard normal number (Box-Muller) from streams k and k + 1. */
function normal(n: string, seed: number, k: number): string {
  return `(sqrt(-2 * ln(${uniform(n, seed, k)})) * cos(2 * pi() * ${uniform(n, seed, k + 1)}))`;
}

/** A Zipf-distributed rank in 1..count (continuous inverse of the law's cumulative weight). */
function zipfRank(n: string, seed: number, k: number, count: number, exponent: number): string {
  const u = uniform(n, seed, k);
  // Constants worked out here: PostgreSQL would otherwise take them as NUMERIC.
  const rank =
    exponent === 1
      ? `exp(${u} * ${Math.log(count + 1)})`
      : `power(1 + ${u} * ${Math.pow(count + 1, 1 - exponent) - 1}, ${1 / (1 - exponent)})`;
  return `CAST(floor(${rank}) AS INTEGER)`;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * A media ID like Synapse's (letters), which carries its row number in ten digits after two
 * letters, so thumbnails can be made from the media table: `(n + 1e9)` as text.
 */
function mediaId(n: string, seed: number, k: number): string {
  const letters = (stream: number, count: number): string[] =>
    Array.from(
      { length: count },
      (_, index) =>
        `substr('${ALPHABET}', CAST((${hash(n, seed, stream)} / ${52 ** index}) % 52 AS INTEGER) + 1, 1)`,
    );
  return [
    ...letters(k, 2),
    `CAST(${n} + 1000000000 AS TEXT)`,
    ...letters(k + 1, 5),
    ...letters(k + 2, 5),
  ].join(" || ");
}

/** The row number a mediaId carries. */
const NUMBER_OF_ID = "(CAST(substr(m.media_id, 3, 10) AS BIGINT) - 1000000000)";

// The fixtures' shares of content types, so that both data sets look alike.
const TYPES = REMOTE_TYPES;

function contentType(n: string, seed: number, k: number): string {
  let bound = 0;
  const branches = TYPES.map(([type, weight]) => {
    bound += weight;
    return `WHEN ${hash(n, seed, k)} < ${Math.round(bound * 2147483629)} THEN '${type}'`;
  });
  return `CASE ${branches.join(" ")} ELSE 'image/jpeg' END`;
}

/** A series of row numbers `i` from low to high, as a FROM item. */
function series(dialect: "postgres" | "sqlite", low: number, high: number): string {
  return dialect === "postgres"
    ? `generate_series(CAST(${low} AS BIGINT), ${high}) AS s(i)`
    : `(WITH RECURSIVE s(i) AS (SELECT ${low} UNION ALL SELECT i + 1 FROM s WHERE i < ${high})
        SELECT i FROM s) AS s`;
}

/**
 * The values both media tables share, over `s.i`: size (log-normal, 1 in 1000 unknown), type,
 * creation over three years, last access, quarantine; in a subquery the caller selects from.
 */
function mediaValues(
  dialect: "postgres" | "sqlite",
  seed: number,
  low: number,
  high: number,
  extra: string[],
  quarantinedPerMille: number,
): string {
  const i = "s.i";
  return `SELECT ${i} AS i, ${mediaId(i, seed, 0)} AS media_id, ${contentType(i, seed, 3)} AS media_type,
            CASE WHEN ${hash(i, seed, 4)} % 1000 = 0 THEN NULL
                 ELSE exp(12 + 1.9 * ${normal(i, seed, 5)}) END AS raw_length,
            ${STORAGE_END_TS} - CAST(floor(${uniform(i, seed, 7)} * ${SPAN_MS}) AS BIGINT) AS created_ts,
            ${uniform(i, seed, 8)} AS access_share,
            CASE WHEN ${hash(i, seed, 9)} % 1000 < ${quarantinedPerMille}
                 THEN '@admin:bench.example' END AS quarantined_by,
            ${[...extra].join(", ")}
       FROM ${series(dialect, low, high)}`;
}

const LENGTH = `CASE WHEN v.raw_length IS NULL THEN NULL WHEN v.raw_length >= ${MAX_LENGTH}
  THEN ${MAX_LENGTH} ELSE CAST(round(v.raw_length) AS INTEGER) END`;
const LAST_ACCESS = `v.created_ts + CAST(floor(v.access_share * (${STORAGE_END_TS} - v.created_ts)) AS BIGINT)`;

function localMedia(
  dialect: "postgres" | "sqlite",
  seed: number,
  shape: (typeof STORAGE_SCALES)[StorageScale],
  low: number,
  high: number,
): string {
  const i = "s.i";
  // The first rows give every uploader one media; the rest follow the law.
  const uploader = `CASE WHEN ${i} <= ${shape.uploaders} THEN ${i}
    ELSE ${zipfRank(i, seed, 10, shape.uploaders, 1.1)} END`;
  return `INSERT INTO local_media_repository (media_id, media_type, media_length, created_ts,
            upload_name, user_id, quarantined_by, url_cache, last_access_ts)
          SELECT v.media_id, v.media_type, ${LENGTH}, v.created_ts, v.upload_name,
                 '@u' || CAST(v.uploader AS TEXT) || ':bench.example', v.quarantined_by,
                 CASE WHEN v.preview THEN 'https://example.com/page/' || CAST(v.i AS TEXT) END,
                 ${LAST_ACCESS}
            FROM (${mediaValues(
              dialect,
              seed,
              low,
              high,
              [
                `${uploader} AS uploader`,
                `CASE WHEN ${hash(i, seed, 11)} % 100 < 60 THEN 'upload' || CAST(${i} AS TEXT) END AS upload_name`,
                `${hash(i, seed, 12)} % 1000 < 20 AS preview`,
              ],
              3,
            )}) AS v`;
}

function remoteMedia(
  dialect: "postgres" | "sqlite",
  seed: number,
  shape: (typeof STORAGE_SCALES)[StorageScale],
  low: number,
  high: number,
): string {
  const i = "s.i";
  // Remote rows are numbered after the local ones: their IDs never collide.
  const n = `(${i} + 500000000)`;
  const origin = `CASE WHEN ${i} <= ${shape.origins} THEN ${i}
    ELSE ${zipfRank(i, seed, 20, shape.origins, 1.0)} END`;
  const values = mediaValues(
    dialect,
    seed,
    low,
    high,
    [`${origin} AS origin_rank`, `${mediaId(n, seed, 21)} AS remote_id`],
    2,
  );
  return `INSERT INTO remote_media_cache (media_origin, media_id, media_type, created_ts,
            upload_name, media_length, filesystem_id, last_access_ts, quarantined_by)
          SELECT o.origin, v.remote_id, v.media_type, v.created_ts, NULL, ${LENGTH},
                 v.remote_id, ${LAST_ACCESS}, v.quarantined_by
            FROM (${values}) AS v
            JOIN sas_bench_origins AS o ON o.origin_rank = CASE WHEN v.origin_rank > ${shape.origins}
                 THEN ${shape.origins} ELSE v.origin_rank END`;
}

/** Synapse's default thumbnail sizes with a typical JPEG size of each; an image gets 1 to 5. */
const SIZES = `SELECT 1 AS n, 32 AS w, 32 AS h, 'crop' AS method, 1500 AS bytes
  UNION ALL SELECT 2, 96, 96, 'crop', 6000
  UNION ALL SELECT 3, 320, 240, 'scale', 25000
  UNION ALL SELECT 4, 640, 480, 'scale', 70000
  UNION ALL SELECT 5, 800, 600, 'scale', 100000`;

/** Thumbnails of 85% of the images of a media table. */
function thumbnails(source: "local" | "remote", seed: number): string {
  const table = source === "local" ? "local_media_repository" : "remote_media_cache";
  // Remote IDs carry their number plus 500M: back to the row's own number.
  const n = source === "local" ? NUMBER_OF_ID : `(${NUMBER_OF_ID} - 500000000)`;
  const length = `CASE WHEN m.media_type = 'image/png' THEN 2.5 ELSE 1 END * z.bytes
    * exp(0.35 * ${normal(`(${n} * 8 + z.n)`, seed, 30)})`;
  const columns =
    source === "local"
      ? "media_id, thumbnail_width, thumbnail_height, thumbnail_type, thumbnail_method, thumbnail_length"
      : "media_origin, media_id, thumbnail_width, thumbnail_height, thumbnail_type, thumbnail_method, thumbnail_length, filesystem_id";
  const origin = source === "local" ? "" : "m.media_origin, ";
  const file =
    source === "local"
      ? ""
      : `, m.media_id || '-' || CAST(z.w AS TEXT) || 'x' || CAST(z.h AS TEXT)`;
  return `INSERT INTO ${table}_thumbnails (${columns})
          SELECT ${origin}m.media_id, z.w, z.h,
                 CASE WHEN m.media_type = 'image/png' THEN 'image/png' ELSE 'image/jpeg' END,
                 z.method, CAST(round(CASE WHEN ${length} < 100 THEN 100 ELSE ${length} END) AS INTEGER)${file}
            FROM ${table} AS m
            JOIN (${SIZES}) AS z ON z.n <= 1 + ${hash(n, seed, 32)} % 5
           WHERE m.media_type LIKE 'image/%'
             AND ${hash(n, seed, 33)} % 100 < 85`;
}
