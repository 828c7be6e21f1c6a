// `npm run bench:storage-refresh`: what one refresh of the metrics' storage gauges costs, on the
// benchmark's media database with as many thumbnails, remote media and remote thumbnails as
// local media. Usage: npm run bench:storage-refresh -- [--scale S|M|L]
//   [--dialect both|postgres|sqlite] [--database postgres://server] [--runs 5] [--seed 1]

import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Knex } from "knex";
import { fixtureDialect, openSqlite, type EmbeddedPostgresServer } from "../fixtures";
import { existingTables } from "../lib/storage/existing-tables";
import { readStorageFigures } from "../lib/storage/storage-figures";
import { buildDataset, holdsDataset, SCALES, type Scale } from "./media-database";
import { openBenchPostgres } from "./postgres";

const RESULTS = resolve(__dirname, "../../bench-results");

const MEDIA_STORES = [
  "local_media_repository_thumbnails",
  "remote_media_cache",
  "remote_media_cache_thumbnails",
];

/** Fills the three other media tables (the schema creates them) from local_media_repository, once. */
async function fillMediaStores(db: Knex, log: (line: string) => void): Promise<void> {
  const present = await existingTables(db, fixtureDialect(db), MEDIA_STORES);
  if (present.size < MEDIA_STORES.length) {
    throw new Error(
      "the cached benchmark database predates the remote media tables: delete it (bench-results/data, or its PostgreSQL database) to rebuild it",
    );
  }
  const [row] = (await db("remote_media_cache_thumbnails").count({ n: "*" })) as Array<{
    n: number | string;
  }>;
  if (Number(row?.n) > 0) return;
  const started = Date.now();
  const modulo =
    fixtureDialect(db) === "postgres" ? "abs(hashtext(media_id)) % 500" : "abs(random()) % 500";
  for (const statement of [
    `INSERT INTO local_media_repository_thumbnails (media_id, thumbnail_width, thumbnail_height,
       thumbnail_type, thumbnail_method, thumbnail_length)
       SELECT media_id, 320, 240, 'image/jpeg', 'scale', media_length / 20 FROM local_media_repository`,
    `INSERT INTO remote_media_cache (media_origin, media_id, created_ts, media_length, filesystem_id)
       SELECT 'origin' || (${modulo}) || '.example', media_id, created_ts, media_length, media_id
         FROM local_media_repository`,
    `INSERT INTO remote_media_cache_thumbnails (media_origin, media_id, thumbnail_width,
       thumbnail_height, thumbnail_method, thumbnail_type, thumbnail_length, filesystem_id)
       SELECT media_origin, media_id, 320, 240, 'scale', 'image/jpeg', media_length / 20, filesystem_id
         FROM remote_media_cache`,
  ]) {
    await db.raw(statement);
  }
  if (fixtureDialect(db) === "postgres") await db.raw("VACUUM ANALYZE");
  else await db.raw("ANALYZE");
  log(`  media stores filled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: "string", default: "M" },
      dialect: { type: "string", default: "both" },
      database: { type: "string" },
      runs: { type: "string", default: "5" },
      seed: { type: "string", default: "1" },
    },
  });
  const scale = values.scale as Scale;
  if (!(scale in SCALES)) throw new Error("--scale must be S, M or L");
  const seed = Number(values.seed);
  const runs = Number(values.runs);
  const dialects = values.dialect === "both" ? ["sqlite", "postgres"] : [String(values.dialect)];
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  let embedded: EmbeddedPostgresServer | undefined;
  try {
    for (const dialect of dialects) {
      let db: Knex;
      if (dialect === "sqlite") {
        const dir = join(RESULTS, "data");
        mkdirSync(dir, { recursive: true });
        db = openSqlite(join(dir, `storage-${scale}-${seed}.sqlite`));
      } else {
        const opened = await openBenchPostgres(
          values.database,
          `sas_bench_storage_${scale.toLowerCase()}_${seed}`,
          RESULTS,
        );
        db = opened.db;
        embedded ??= opened.embedded;
      }
      try {
        if (!(await holdsDataset(db, scale, seed))) {
          log(`Building the ${scale} data set on ${dialect}...`);
          await buildDataset(db, scale, seed, log);
        }
        await fillMediaStores(db, log);
        const kind = dialect === "postgres" ? "postgres" : "sqlite";
        await readStorageFigures({ db, dialect: kind }); // warm-up: caches, connections
        const timings: number[] = [];
        let figures: Awaited<ReturnType<typeof readStorageFigures>> | undefined;
        for (let run = 0; run < runs; run++) {
          const started = process.hrtime.bigint();
          figures = await readStorageFigures({ db, dialect: kind });
          timings.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
        log(
          `${dialect}, scale ${scale}: one storage refresh, median of ${runs}: ${median(timings).toFixed(0)} ms ` +
            `(min ${Math.min(...timings).toFixed(0)}, max ${Math.max(...timings).toFixed(0)}); ` +
            `${figures?.localMedia.count.toLocaleString("en")} local media, ` +
            `${figures?.remoteMedia?.count.toLocaleString("en")} remote media, ` +
            `database ${((figures?.databases[0]?.bytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
        );
      } finally {
        await db.destroy();
      }
    }
  } finally {
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
