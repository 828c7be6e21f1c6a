// `npm run bench:storage-refresh`: what one refresh of the metrics' storage gauges costs, on
// bench:overview's data set (local media, twice as many remote media from Zipf origins,
// thumbnails for most images). Usage: npm run bench:storage-refresh -- [--scale S|M|L]
//   [--dialect both|postgres|sqlite] [--database postgres://server] [--runs 5] [--seed 1]

import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { EmbeddedPostgresServer } from "../fixtures";
import { readStorageFigures } from "../lib/storage/storage-figures";
import { median } from "./measure";
import {
  ensureStorageDataset,
  openStorageDatabase,
  STORAGE_SCALES,
  type StorageScale,
} from "./storage-database";

const RESULTS = resolve(__dirname, "../../bench-results");

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
  const scale = values.scale as StorageScale;
  if (!(scale in STORAGE_SCALES)) throw new Error("--scale must be S, M or L");
  const seed = Number(values.seed);
  const runs = Number(values.runs);
  const dialects = (
    values.dialect === "both" ? ["sqlite", "postgres"] : [String(values.dialect)]
  ) as Array<"sqlite" | "postgres">;
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  let embedded: EmbeddedPostgresServer | undefined;
  try {
    for (const dialect of dialects) {
      const opened = await openStorageDatabase(dialect, scale, seed, {
        resultsDir: RESULTS,
        serverUrl: values.database,
      });
      const { db } = opened;
      embedded ??= opened.embedded;
      try {
        await ensureStorageDataset(db, scale, seed, log);
        const kind = dialect;
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
