// Builds (or reuses) the benchmark's Synapse-shaped media database at a chosen scale: the same
// rows on PostgreSQL and SQLite for the same seed, analysed after loading.

import type { Knex } from "knex";
import {
  bulkInsertMedia,
  createSynapseSchema,
  fixtureDialect,
  insertAccounts,
  insertProfiles,
  realisticMediaRows,
  realisticUsers,
  REALISTIC_END_TS,
  type RealisticMediaOptions,
} from "../fixtures";

export const SCALES = {
  S: { media: 100_000, uploaders: 2_000 },
  M: { media: 1_000_000, uploaders: 20_000 },
  L: { media: 10_000_000, uploaders: 100_000 },
  /** Many users, each with few media: the whole-list pages of bench:memory. */
  U: { media: 1_000_000, uploaders: 300_000 },
} as const;
export type Scale = keyof typeof SCALES;

// Bumped whenever the generated data changes, so an outdated cached database is rebuilt.
export const GENERATOR_VERSION = 1;
export const BENCH_ADMIN_TOKEN = "syt_bench_admin_token";
export const BENCH_END_TS = REALISTIC_END_TS;

export function datasetOptions(scale: Scale, seed: number): RealisticMediaOptions {
  return { seed, ...SCALES[scale], serverName: "bench.example" };
}

/** Whether the database already holds this exact data set (its marker is written last). */
export async function holdsDataset(db: Knex, scale: Scale, seed: number): Promise<boolean> {
  try {
    const row = await db("sas_bench_info").first<{
      scale: string;
      seed: number;
      version: number;
    }>();
    return (
      row?.scale === scale && Number(row.seed) === seed && Number(row.version) === GENERATOR_VERSION
    );
  } catch {
    return false;
  }
}

/** Loads the data set into an empty database, then analyses it. */
export async function buildDataset(
  db: Knex,
  scale: Scale,
  seed: number,
  log: (message: string) => void,
): Promise<void> {
  const options = datasetOptions(scale, seed);
  const started = Date.now();
  await createSynapseSchema(db);
  await insertAccounts(db, [
    { userId: "@bench-admin:bench.example", admin: true, tokens: [{ token: BENCH_ADMIN_TOKEN }] },
  ]);
  await insertProfiles(db, realisticUsers(options).profiles);
  let reported = 0;
  await bulkInsertMedia(db, realisticMediaRows(options), (written) => {
    if (written - reported >= options.media / 10) {
      reported = written;
      log(`  ${written.toLocaleString("en")} / ${options.media.toLocaleString("en")} media rows`);
    }
  });
  log("  analysing");
  if (fixtureDialect(db) === "postgres") await db.raw("VACUUM ANALYZE");
  else await db.raw("ANALYZE");
  await db.schema.createTable("sas_bench_info", (table) => {
    table.string("scale");
    table.integer("seed");
    table.integer("version");
  });
  await db("sas_bench_info").insert({ scale, seed, version: GENERATOR_VERSION });
  log(`  built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
