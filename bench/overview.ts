// `npm run bench:overview`: each storage endpoint through its router (HTTP, in process) against
// the plain SQL an admin would paste for the same figures, on the storage benchmark database,
// run alternately, medians and ratios (admin ÷ ours: above 1, the endpoint is faster).
// Usage: npm run bench:overview -- [--scale S|M|L] [--dialect both|postgres|sqlite]
//   [--database postgres://server] [--runs 7] [--seed 1] [--shapes largest,origins]

import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Knex } from "knex";
import type { EmbeddedPostgresServer } from "../fixtures";
import { listenRouter } from "./bench-router";
import { median, timeMs } from "./measure";
import { calendarMonthsUntil } from "../lib/storage/calendar-months";
import {
  largestStatements,
  originsStatements,
  overviewStatements,
  type AdminStatement,
  type BenchDialect,
} from "./overview-admin-sql";
import {
  BENCH_ADMIN_TOKEN,
  ensureStorageDataset,
  openStorageDatabase,
  STORAGE_END_TS,
  STORAGE_SCALES,
  TOP_UPLOADER,
  topOrigin,
  type StorageScale,
} from "./storage-database";

const RESULTS = resolve(__dirname, "../../bench-results");
const PREFIX = "/_synapse/admin/io.github.synapse-admin-statistics/v1/storage";
const DAY_MS = 24 * 3600 * 1000;
const LIMIT = 100;

interface Shape {
  name: string;
  /** The endpoint's path and query under PREFIX. */
  path: string;
  admin: AdminStatement[];
}

function shapes(dialect: BenchDialect, scale: StorageScale, seed: number): Shape[] {
  const origin = topOrigin(scale, seed);
  const fromTs = STORAGE_END_TS - 90 * DAY_MS;
  const firstMonth = calendarMonthsUntil(Date.now(), 24).boundaries[0] as number;
  const largest = (query: string) => `/media/largest?limit=${LIMIT}&${query}`;
  return [
    { name: "overview", path: "/overview", admin: overviewStatements(dialect, firstMonth) },
    {
      name: "origins by bytes",
      path: `/remote_media/origins?limit=${LIMIT}&order_by=media_length&dir=b`,
      admin: originsStatements("media_length", LIMIT),
    },
    {
      name: "origins by name",
      path: `/remote_media/origins?limit=${LIMIT}`,
      admin: originsStatements("origin", LIMIT),
    },
    {
      name: "largest local",
      path: largest("source=local"),
      admin: largestStatements(dialect, { source: "local", limit: LIMIT }),
    },
    {
      name: "largest remote",
      path: largest("source=remote"),
      admin: largestStatements(dialect, { source: "remote", limit: LIMIT }),
    },
    {
      name: "largest of one uploader",
      path: largest(`source=local&user_id=${encodeURIComponent(TOP_UPLOADER)}`),
      admin: largestStatements(dialect, { source: "local", limit: LIMIT, userId: TOP_UPLOADER }),
    },
    {
      name: "largest of one origin",
      path: largest(`source=remote&origin=${encodeURIComponent(origin)}`),
      admin: largestStatements(dialect, { source: "remote", limit: LIMIT, origin }),
    },
    {
      name: "largest local, last 90 days",
      path: largest(`source=local&from_ts=${fromTs}&until_ts=${STORAGE_END_TS}`),
      admin: largestStatements(dialect, {
        source: "local",
        limit: LIMIT,
        fromTs,
        untilTs: STORAGE_END_TS,
      }),
    },
  ];
}

interface ShapeResult {
  shape: string;
  oursMs: number;
  adminMs: number;
  ratio: number;
  adminStatements: number;
  oursRuns: number[];
  adminRuns: number[];
}

async function benchDatabase(
  db: Knex,
  dialect: BenchDialect,
  scale: StorageScale,
  seed: number,
  runs: number,
  only: string[],
): Promise<ShapeResult[]> {
  const { server, base } = await listenRouter(db, PREFIX.slice("/_synapse/admin".length));
  const results: ShapeResult[] = [];
  try {
    for (const shape of shapes(dialect, scale, seed).filter(
      (candidate) => only.length === 0 || only.some((part) => candidate.name.includes(part)),
    )) {
      const ours = async () => {
        const res = await fetch(`${base}${shape.path}`, {
          headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
        });
        if (res.status !== 200) throw new Error(`${shape.name}: HTTP ${res.status}`);
        await res.json();
      };
      // The admin's statements one after another, as from a psql or sqlite3 prompt.
      const admin = async () => {
        for (const statement of shape.admin) await db.raw(statement.sql, statement.bindings ?? []);
      };
      await ours(); // warm-up of caches and plans, not measured
      await admin();
      const oursRuns: number[] = [];
      const adminRuns: number[] = [];
      for (let run = 0; run < runs; run++) {
        // Alternately first: neither side always finds the cache the other left.
        if (run % 2 === 0) {
          oursRuns.push(await timeMs(ours));
          adminRuns.push(await timeMs(admin));
        } else {
          adminRuns.push(await timeMs(admin));
          oursRuns.push(await timeMs(ours));
        }
      }
      const result: ShapeResult = {
        shape: shape.name,
        oursMs: median(oursRuns),
        adminMs: median(adminRuns),
        ratio: median(adminRuns) / median(oursRuns),
        adminStatements: shape.admin.length,
        oursRuns,
        adminRuns,
      };
      results.push(result);
      process.stdout.write(
        `  ${dialect.padEnd(9)} ${shape.name.padEnd(28)} ours ${result.oursMs.toFixed(1).padStart(9)} ms   admin ${result.adminMs.toFixed(1).padStart(9)} ms (${shape.admin.length} statements)   ${result.ratio.toFixed(2).padStart(5)}x\n`,
      );
    }
  } finally {
    server.close();
  }
  return results;
}

/** Rows of each media table and the server's version: what the results were measured on. */
async function describeDatabase(
  db: Knex,
  dialect: BenchDialect,
): Promise<Record<string, string | number>> {
  const described: Record<string, string | number> = {};
  for (const table of [
    "local_media_repository",
    "local_media_repository_thumbnails",
    "local_media_repository_url_cache",
    "remote_media_cache",
    "remote_media_cache_thumbnails",
  ]) {
    const [row] = (await db(table).count({ n: "*" })) as Array<{ n: number | string }>;
    described[table] = Number(row?.n);
  }
  const [origins] = (await db("remote_media_cache").countDistinct({
    n: "media_origin",
  })) as Array<{ n: number | string }>;
  described.origins = Number(origins?.n);
  const version = await db.raw(
    dialect === "postgres" ? "SELECT version() AS v" : "SELECT sqlite_version() AS v",
  );
  const rows = (dialect === "postgres" ? version.rows : version) as Array<{ v: string }>;
  described.version = rows[0]?.v ?? "";
  return described;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: "string", default: "M" },
      dialect: { type: "string", default: "both" },
      database: { type: "string" },
      runs: { type: "string", default: "7" },
      seed: { type: "string", default: "1" },
      shapes: { type: "string" },
    },
  });
  const scale = values.scale as StorageScale;
  if (!(scale in STORAGE_SCALES)) throw new Error("--scale must be S, M or L");
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  const dialects: BenchDialect[] =
    values.dialect === "both" ? ["sqlite", "postgres"] : [values.dialect as BenchDialect];
  mkdirSync(RESULTS, { recursive: true, mode: 0o755 });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const report: Record<string, unknown> = {
    scale,
    seed,
    runs,
    date: new Date().toISOString(),
    databases: {},
    results: {},
  };
  let embedded: EmbeddedPostgresServer | undefined;
  try {
    for (const dialect of dialects) {
      const opened = await openStorageDatabase(dialect, scale, seed, {
        resultsDir: RESULTS,
        serverUrl: values.database,
      });
      embedded ??= opened.embedded;
      const { db } = opened;
      try {
        await ensureStorageDataset(db, scale, seed, log);
        const described = await describeDatabase(db, dialect);
        (report.databases as Record<string, unknown>)[dialect] = described;
        log(`\n${dialect}, scale ${scale}, ${runs} runs each, alternating, medians:`);
        log(`  ${JSON.stringify(described)}`);
        (report.results as Record<string, unknown>)[dialect] = await benchDatabase(
          db,
          dialect,
          scale,
          seed,
          runs,
          values.shapes ? values.shapes.split(",") : [],
        );
      } finally {
        await db.destroy();
      }
    }
  } finally {
    await embedded?.stop();
  }
  const file = join(RESULTS, `overview-${scale}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  log(`\nWritten to ${file}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
