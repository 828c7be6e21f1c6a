// `npm run bench:summary-storage`: the storage part of the summary on PostgreSQL, on the storage
// benchmark database (bench/storage-database.ts), measured side by side in one run:
//   - reads: the overview and the first page of origins from the summary against the scans
//     of the media tables (the same functions the endpoints call), and through the endpoint;
//   - writes: one upload, one remote fetch, one thumbnail, one access-time update each in its
//     own transaction, on copies of the database without the summary, with the per-user part
//     only (0.2) and with the whole summary, alternating in blocks; and a statement of many
//     rows (INSERT ... SELECT, then DELETE) without and with it;
//   - backfill: install of the whole summary, and of the storage part alone added to a 0.2 one.
// Usage: npm run bench:summary-storage -- [--scales M,L] [--database postgres://server]
//   [--runs 9] [--scan-runs 3] [--writes 3000] [--block 150] [--bulk 100000] [--seed 1]
//   [--sqlite bench-results/data/storage-overview-M-1.sqlite] (SQLite too, on copies of it)
//   [--writes-only] (no backfill, no reads)

import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Knex } from "knex";
import { openPostgres, openSqlite, withDatabase } from "../fixtures";
import type { Dialect } from "../lib/dialect";
import { installMediaUsageSummary, uninstallMediaUsageSummary, verifyStorageSummary } from "../lib";
import { readRemoteOrigins, type RemoteOriginsFilter } from "../lib/storage/remote-origins";
import { readStorageOverview } from "../lib/storage/storage-overview";
import { summaryMediaFigures, summaryRemoteOrigins } from "../lib/storage/storage-summary";
import { dropStoragePart } from "../lib/summary/storage-part";
import { SLOTS } from "../lib/summary/storage-targets";
import { listenRouter } from "./bench-router";
import {
  armResults,
  alternate,
  closeAll,
  log,
  makeArm,
  median,
  msSince,
  now,
  openPostgresArm,
  openSqliteArm,
  round,
  type Arm,
  type ArmResult,
} from "./summary-bench-arms";
import {
  BENCH_ADMIN_TOKEN,
  ensureStorageDataset,
  STORAGE_SCALES,
  type StorageScale,
} from "./storage-database";

const RESULTS = resolve(__dirname, "../../bench-results");
const PREFIX = "/io.github.synapse-admin-statistics/v1/storage";

interface Options {
  scales: StorageScale[];
  server: string;
  runs: number;
  scanRuns: number;
  writes: number;
  block: number;
  bulk: number;
  seed: number;
  /** A SQLite storage benchmark database (bench:overview's) to measure too; copied, never written. */
  sqlite: string | undefined;
  /** Only the writes (and SQLite if given): no backfill, no reads. */
  writesOnly: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      scales: { type: "string", default: "M,L" },
      database: { type: "string" },
      runs: { type: "string", default: "9" },
      "scan-runs": { type: "string", default: "3" },
      writes: { type: "string", default: "3000" },
      block: { type: "string", default: "150" },
      bulk: { type: "string", default: "100000" },
      seed: { type: "string", default: "1" },
      sqlite: { type: "string" },
      "writes-only": { type: "boolean", default: false },
    },
  });
  const server = values.database ?? process.env.TEST_PG_URL ?? process.env.DATABASE_URL;
  if (!server) throw new Error("give --database postgres://... (or TEST_PG_URL)");
  const scales = values.scales.split(",") as StorageScale[];
  for (const scale of scales) {
    if (!(scale in STORAGE_SCALES)) throw new Error(`unknown scale ${scale}: S, M or L`);
  }
  return {
    scales,
    server,
    runs: Number(values.runs),
    scanRuns: Number(values["scan-runs"]),
    writes: Number(values.writes),
    block: Number(values.block),
    bulk: Number(values.bulk),
    seed: Number(values.seed),
    sqlite: values.sqlite,
    writesOnly: values["writes-only"],
  };
}

/**
 * A database of its own holding the storage data set: a file copy of the one bench:overview
 * built (CREATE DATABASE ... TEMPLATE, seconds), else built afresh. Never that one itself:
 * installing the summary there would change what bench:overview measures.
 */
async function copyOfDataset(options: Options, scale: StorageScale, name: string): Promise<Knex> {
  const admin = openPostgres(options.server, { min: 0, max: 1 });
  try {
    const exists = await admin.raw<{ rows: unknown[] }>(
      "SELECT 1 FROM pg_database WHERE datname = ?",
      [name],
    );
    if (exists.rows.length === 0) {
      const template = `sas_bench_overview_${scale.toLowerCase()}_${options.seed}`;
      try {
        await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        log(`${name}: copied from ${template}`);
      } catch {
        // No such template, or someone is connected to it: build the data set here.
        await admin.raw(`CREATE DATABASE ${name}`);
      }
    }
  } finally {
    await admin.destroy();
  }
  const db = openPostgres(withDatabase(options.server, name), { min: 0, max: 4 });
  await ensureStorageDataset(db, scale, options.seed, log);
  return db;
}

interface Backfill {
  wholeSummaryMs: number;
  storagePartMs: number;
  sizes: Record<string, number>;
}

/** Install timed twice: the whole summary, then the storage part added to a 0.2 summary. */
async function backfill(db: Knex, dialect: Dialect): Promise<Backfill> {
  const checkpoint = dialect === "postgres" ? "CHECKPOINT" : "PRAGMA wal_checkpoint";
  await uninstallMediaUsageSummary(db);
  await db.raw(checkpoint);
  let start = now();
  await installMediaUsageSummary(db);
  const wholeSummaryMs = msSince(start);
  await dropStoragePart(db, dialect);
  await db.raw(checkpoint);
  start = now();
  const result = await installMediaUsageSummary(db);
  const storagePartMs = msSince(start);
  if (result.storageSummary !== "installed") throw new Error("the storage part was not added");
  if (dialect === "sqlite") {
    return {
      wholeSummaryMs: round(wholeSummaryMs, 0),
      storagePartMs: round(storagePartMs, 0),
      sizes: {},
    };
  }
  await db.raw(
    "VACUUM ANALYZE sas_media_overview, sas_remote_origin_media, sas_remote_origin_thumbnails",
  );
  const { rows } = await db.raw<{ rows: Array<{ name: string; bytes: string }> }>(
    `SELECT relname AS name, pg_total_relation_size(oid) AS bytes FROM pg_class
      WHERE relname IN ('sas_media_overview', 'sas_remote_origin_media',
                        'sas_remote_origin_thumbnails', 'sas_remote_media_cache_origin_created')`,
  );
  const counts = await db.raw<{ rows: Array<{ overview: string; origins: string }> }>(
    `SELECT (SELECT COUNT(*) FROM sas_media_overview) AS overview,
            (SELECT COUNT(*) FROM sas_remote_origin_media) AS origins`,
  );
  return {
    wholeSummaryMs: round(wholeSummaryMs, 0),
    storagePartMs: round(storagePartMs, 0),
    sizes: {
      ...Object.fromEntries(rows.map((row) => [`${row.name} bytes`, Number(row.bytes)])),
      "sas_media_overview rows": Number(counts.rows[0]?.overview),
      "sas_remote_origin_media rows": Number(counts.rows[0]?.origins),
    },
  };
}

interface ReadResult {
  shape: string;
  summaryMs: number;
  endpointMs: number;
  scanMs: number;
  /** Scan time over summary time: how many times faster the summary answers. */
  ratio: number;
  summaryRuns: number[];
  endpointRuns: number[];
  scanRuns: number[];
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = now();
  await work();
  return msSince(start);
}

/** Each read from the summary, through the endpoint, and by scanning, alternating. */
async function reads(db: Knex, dialect: Dialect, options: Options): Promise<ReadResult[]> {
  const { server, base } = await listenRouter(db, PREFIX);
  const origins = (orderBy: RemoteOriginsFilter["orderBy"], direction: "f" | "b") => ({
    from: 0,
    limit: 100,
    orderBy,
    direction,
    searchTerm: undefined,
  });
  const shapes: Array<{
    name: string;
    path: string;
    summary: () => Promise<unknown>;
    scan: () => Promise<unknown>;
  }> = [
    {
      name: "overview",
      path: "/overview",
      summary: () =>
        readStorageOverview(
          { db, dialect },
          {
            mediaFigures: (trx, dialect, breakdown) => summaryMediaFigures(trx, dialect, breakdown),
          },
        ),
      scan: () => readStorageOverview({ db, dialect }),
    },
    ...(
      [
        ["origins by bytes", "order_by=media_length&dir=b", origins("media_length", "b")],
        ["origins by count", "order_by=media_count&dir=b", origins("media_count", "b")],
        ["origins by name", "order_by=origin&dir=f", origins("origin", "f")],
      ] as const
    ).map(([name, query, filter]) => ({
      name,
      path: `/remote_media/origins?limit=100&${query}`,
      summary: () => summaryRemoteOrigins(db, dialect, filter),
      scan: () => readRemoteOrigins(db, dialect, filter),
    })),
  ];
  const results: ReadResult[] = [];
  try {
    for (const shape of shapes) {
      const endpoint = async () => {
        const res = await fetch(`${base}${shape.path}`, {
          headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
        });
        if (res.status !== 200) throw new Error(`${shape.name}: HTTP ${res.status}`);
        await res.json();
      };
      // Warm-up, not measured; and the two must agree.
      const [fromSummary, fromScan] = [await shape.summary(), await shape.scan()];
      const strip = (value: unknown) => JSON.stringify(value).replace(/"generated_at":\d+,/, "");
      if (strip(fromSummary) !== strip(fromScan)) throw new Error(`${shape.name}: answers differ`);
      await endpoint();
      const runs = { summary: [] as number[], endpoint: [] as number[], scan: [] as number[] };
      for (let run = 0; run < options.runs; run++) {
        const arms: Array<[keyof typeof runs, () => Promise<unknown>]> = [
          ["summary", shape.summary],
          ["endpoint", endpoint],
          ...(run < options.scanRuns
            ? [["scan", shape.scan] as [keyof typeof runs, () => Promise<unknown>]]
            : []),
        ];
        for (let turn = 0; turn < arms.length; turn++) {
          const [arm, work] = arms[(run + turn) % arms.length] as [
            keyof typeof runs,
            () => Promise<unknown>,
          ];
          runs[arm].push(await timed(work));
        }
      }
      const result: ReadResult = {
        shape: shape.name,
        summaryMs: round(median(runs.summary), 1),
        endpointMs: round(median(runs.endpoint), 1),
        scanMs: round(median(runs.scan), 0),
        ratio: round(median(runs.scan) / median(runs.summary), 0),
        summaryRuns: runs.summary.map((ms) => round(ms, 1)),
        endpointRuns: runs.endpoint.map((ms) => round(ms, 1)),
        scanRuns: runs.scan.map((ms) => round(ms, 0)),
      };
      results.push(result);
      log(
        `  ${shape.name.padEnd(18)} summary ${result.summaryMs.toFixed(1).padStart(7)} ms   endpoint ${result.endpointMs.toFixed(1).padStart(7)} ms   scan ${result.scanMs.toFixed(0).padStart(7)} ms   ${result.ratio}x`,
      );
    }
  } finally {
    server.close();
  }
  return results;
}

// Synapse's writes, one row each in its own transaction (autocommit), as it makes them.
const WRITES = {
  upload:
    "INSERT INTO local_media_repository (media_id, media_type, created_ts, upload_name, media_length, user_id, authenticated) VALUES (?, ?, ?, NULL, ?, ?, true)",
  fetch:
    "INSERT INTO remote_media_cache (media_origin, media_id, media_type, created_ts, upload_name, media_length, filesystem_id, authenticated) VALUES (?, ?, ?, ?, NULL, ?, ?, true)",
  thumbnail:
    "INSERT INTO local_media_repository_thumbnails (media_id, thumbnail_width, thumbnail_height, thumbnail_type, thumbnail_method, thumbnail_length) VALUES (?, 320, 240, 'image/jpeg', 'scale', ?)",
  access:
    "UPDATE remote_media_cache SET last_access_ts = ? WHERE media_origin = ? AND media_id = ?",
} as const;
type Write = keyof typeof WRITES;

const TYPES = ["image/jpeg", "image/png", "image/jpeg", "video/mp4", "image/webp"];
const ORIGINS = ["matrix.org", "matrix.org", "matrix.org", "mozilla.org", "kde.org", "gnome.org"];

function writeValues(write: Write, run: string, index: number, at: number): Array<string | number> {
  const id = `${run}-${index}`;
  const type = TYPES[index % TYPES.length] as string;
  const origin = ORIGINS[index % ORIGINS.length] as string;
  const length = 1000 + ((index * 7919) % 5_000_000);
  switch (write) {
    case "upload":
      return [id, type, at, length, `@u${index % 50}:bench.example`];
    case "fetch":
      return [origin, id, type, at, length, id];
    case "thumbnail":
      return [id, length % 100_000];
    case "access":
      return [at, origin, id];
  }
}

interface WriteSection {
  write: Write;
  arms: ArmResult[];
  /** Microseconds the whole summary adds to one write over no summary. */
  addedMicros: number;
}

/** Each kind of write, alternating in blocks over the arms (the first arm is the baseline). */
async function writes(arms: Arm[], options: Options): Promise<WriteSection[]> {
  const run = `b${Date.now().toString(36)}`;
  const at = Date.now();
  const sections: WriteSection[] = [];
  for (const write of Object.keys(WRITES) as Write[]) {
    for (const arm of arms) arm.blocks = [];
    log(`writes: ${write}, ${options.writes} per arm in blocks of ${options.block}`);
    await alternate(arms, Math.floor(options.writes / options.block), async (arm, block) => {
      const start = now();
      for (let offset = 0; offset < options.block; offset++) {
        const index = block * options.block + offset;
        await arm.exec(WRITES[write], writeValues(write, run, index, at + index));
      }
      return msSince(start);
    });
    const results = armResults(arms, options.block);
    const baseline = results[0] as ArmResult;
    const whole = results[results.length - 1] as ArmResult;
    sections.push({
      write,
      arms: results,
      addedMicros: round(whole.microsPerOperation - baseline.microsPerOperation, 1),
    });
    for (const result of results) {
      log(
        `  ${result.arm.padEnd(30)} ${result.microsPerOperation.toFixed(1).padStart(8)} µs/op   ${result.ratio.toFixed(3)}x`,
      );
    }
  }
  return sections;
}

interface BulkResult {
  statement: string;
  rows: number;
  withoutMs: number;
  withMs: number;
  ratio: number;
}

/** A statement of many remote fetches, then its DELETE, without and with the summary, alternating. */
async function bulk(arms: [Arm, Arm], dialect: Dialect, options: Options): Promise<BulkResult[]> {
  const series =
    dialect === "postgres"
      ? `generate_series(1, ${options.bulk}) AS n`
      : `(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${options.bulk}) SELECT n FROM s)`;
  const insert = `INSERT INTO remote_media_cache (media_origin, media_id, media_type, created_ts, media_length, filesystem_id)
    SELECT 'bulk' || (n % 50) || '.example', 'bulk-' || n, 'image/jpeg', ${Date.now()} - n, n % 100000, 'bulk-' || n
      FROM ${series}`;
  const remove = "DELETE FROM remote_media_cache WHERE media_origin LIKE 'bulk%.example'";
  const timings = { insert: [[], []] as number[][], delete: [[], []] as number[][] };
  for (let round = 0; round < 3; round++) {
    for (const [statement, sql] of [
      ["insert", insert],
      ["delete", remove],
    ] as const) {
      for (let turn = 0; turn < 2; turn++) {
        const index = (round + turn) % 2;
        const arm = arms[index] as Arm;
        const start = now();
        await arm.exec(sql, []);
        (timings[statement][index] as number[]).push(msSince(start));
      }
    }
  }
  return (["insert", "delete"] as const).map((statement) => {
    const [without, withSummary] = timings[statement] as [number[], number[]];
    const result = {
      statement: statement === "insert" ? "INSERT ... SELECT" : "DELETE",
      rows: options.bulk,
      withoutMs: round(median(without), 0),
      withMs: round(median(withSummary), 0),
      ratio: round(median(withSummary) / median(without), 2),
    };
    log(
      `  bulk ${result.statement.padEnd(18)} ${result.rows} rows: ${result.withoutMs} ms without, ${result.withMs} ms with, ${result.ratio}x`,
    );
    return result;
  });
}

/**
 * Rewrites the storage part's trigger functions to write every group to slot 0: what the
 * slots (lib/summary/storage-targets.ts) spare concurrent writers, measured against it.
 */
async function withoutSlots(db: Knex): Promise<void> {
  const { rows } = await db.raw<{ rows: Array<{ name: string; source: string }> }>(
    "SELECT proname AS name, prosrc AS source FROM pg_proc WHERE proname LIKE 'sas_storage_%'",
  );
  for (const { name, source } of rows) {
    const oneSlot = source.replaceAll(`pg_backend_pid() % ${SLOTS}`, "0");
    await db.raw(
      `CREATE OR REPLACE FUNCTION public.${name}() RETURNS trigger LANGUAGE plpgsql AS $sas$${oneSlot}$sas$`,
    );
  }
}

interface ConcurrentResult {
  arm: string;
  writers: number;
  uploads: number;
  /** Median over rounds of the wall time of all writers' uploads. */
  wallMs: number;
  uploadsPerSecond: number;
  /** Serialization failures and deadlocks, each retried as Synapse would. */
  retries: number;
}

/**
 * Writers uploading at once, each upload a REPEATABLE READ transaction as Synapse runs it,
 * all of the same content type in the same month (one overview group), retried on a
 * serialization failure or deadlock: without the summary and with it, alternating rounds.
 */
async function concurrentUploads(
  urls: Array<[string, string]>,
  options: Options,
): Promise<ConcurrentResult[]> {
  const writers = 4;
  const perWriter = Math.max(50, Math.floor(options.writes / 20));
  const pools = urls.map(([name, url]) => ({
    name,
    db: openPostgres(url, { min: writers, max: writers }),
    walls: [] as number[],
    retries: 0,
  }));
  const at = Date.now();
  try {
    for (let round = 0; round < 4; round++) {
      for (let turn = 0; turn < pools.length; turn++) {
        const pool = pools[(round + turn) % pools.length] as (typeof pools)[number];
        const start = now();
        await Promise.all(
          Array.from({ length: writers }, async (_, writer) => {
            for (let index = 0; index < perWriter; index++) {
              const id = `cc${round}-${writer}-${index}-${at}`;
              for (let attempt = 0; ; attempt++) {
                try {
                  await pool.db.transaction(async (trx) => {
                    await trx.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                    await trx.raw("SET LOCAL synchronous_commit = off");
                    await trx.raw(WRITES.upload, [id, "image/jpeg", at, 1000, `@c${writer}:x`]);
                  });
                  break;
                } catch (error) {
                  const code = (error as { code?: unknown }).code;
                  if ((code !== "40001" && code !== "40P01") || attempt > 20) throw error;
                  pool.retries += 1;
                }
              }
            }
          }),
        );
        pool.walls.push(msSince(start));
      }
    }
  } finally {
    await Promise.all(pools.map((pool) => pool.db.destroy()));
  }
  return pools.map((pool) => {
    const wallMs = median(pool.walls);
    const result = {
      arm: pool.name,
      writers,
      uploads: writers * perWriter,
      wallMs: round(wallMs, 0),
      uploadsPerSecond: round((writers * perWriter * 1000) / wallMs, 0),
      retries: pool.retries,
    };
    log(
      `  ${result.arm.padEnd(30)} ${result.uploadsPerSecond} uploads/s with ${writers} writers, ${result.retries} retries over 4 rounds`,
    );
    return result;
  });
}

/**
 * SQLite at the scale of the file given: install, reads, and writes (synchronous NORMAL, as
 * Synapse runs SQLite in WAL mode) on two copies, without and with the summary.
 */
async function sqliteSection(source: string, options: Options): Promise<Record<string, unknown>> {
  const dir = join(RESULTS, "data");
  mkdirSync(dir, { recursive: true });
  const copies = ["plain", "whole"].map((part) => join(dir, `summary-storage-${part}.sqlite`));
  for (const copy of copies) {
    if (!existsSync(copy)) copyFileSync(source, copy);
  }
  // Synapse runs SQLite in WAL mode (the setting stays with the file).
  for (const copy of copies) {
    const db = openSqlite(copy);
    await db.raw("PRAGMA journal_mode = WAL");
    await db.destroy();
  }
  const section: Record<string, unknown> = {};
  const db = openSqlite(copies[1] as string);
  try {
    log("SQLite: backfill (install) of the whole summary, then of the storage part alone");
    section.backfill = await backfill(db, "sqlite");
    log(`  ${JSON.stringify(section.backfill)}`);
    log(`SQLite: reads, ${options.runs} runs (${options.scanRuns} of the scans)`);
    section.reads = await reads(db, "sqlite", options);
  } finally {
    await db.destroy();
  }
  const arms = [
    await makeArm("without summary", openSqliteArm(copies[0] as string, "NORMAL"), "sqlite"),
    await makeArm("whole summary", openSqliteArm(copies[1] as string, "NORMAL"), "sqlite"),
  ];
  try {
    await uninstallMediaUsageSummary((arms[0] as Arm).db);
    log("SQLite: writes (synchronous NORMAL)");
    section.writes = await writes(arms, options);
    section.bulk = await bulk([arms[0] as Arm, arms[1] as Arm], "sqlite", options);
  } finally {
    await closeAll(arms);
  }
  return section;
}

async function main(): Promise<void> {
  const options = parseOptions();
  mkdirSync(RESULTS, { recursive: true, mode: 0o755 });
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    options: { ...options, server: undefined },
  };
  const scales: Record<string, unknown> = {};
  for (const scale of options.writesOnly ? [] : options.scales) {
    const db = await copyOfDataset(
      options,
      scale,
      `sas_bench_summary_storage_${scale.toLowerCase()}`,
    );
    try {
      log(`${scale}: backfill (install) of the whole summary, then of the storage part alone`);
      const filled = await backfill(db, "postgres");
      log(
        `  whole summary ${filled.wholeSummaryMs} ms, storage part ${filled.storagePartMs} ms; ${JSON.stringify(filled.sizes)}`,
      );
      log(
        `${scale}: reads, ${options.runs} runs (${options.scanRuns} of the scans), alternating, medians`,
      );
      scales[scale] = { backfill: filled, reads: await reads(db, "postgres", options) };
    } finally {
      await db.destroy();
    }
  }
  report.scales = scales;

  // Writes on copies of the smallest scale given: without, with 0.2's part, with the whole.
  const scale = options.scales[0] as StorageScale;
  const names = ["plain", "user", "whole"].map(
    (part) => `sas_bench_summary_storage_${scale.toLowerCase()}_${part}`,
  );
  for (const name of names) await (await copyOfDataset(options, scale, name)).destroy();
  const arms = [
    await makeArm(
      "without summary",
      openPostgresArm(withDatabase(options.server, names[0] as string), false),
      "postgres",
    ),
    await makeArm(
      "per-user summary only (0.2)",
      openPostgresArm(withDatabase(options.server, names[1] as string), false),
      "postgres",
    ),
    await makeArm(
      "whole summary",
      openPostgresArm(withDatabase(options.server, names[2] as string), false),
      "postgres",
    ),
  ];
  try {
    const [plain, user, whole] = arms as [Arm, Arm, Arm];
    await uninstallMediaUsageSummary(plain.db);
    await uninstallMediaUsageSummary(user.db);
    await installMediaUsageSummary(user.db);
    await dropStoragePart(user.db, "postgres");
    await uninstallMediaUsageSummary(whole.db);
    await installMediaUsageSummary(whole.db);
    for (const arm of arms) await arm.db.raw("VACUUM ANALYZE");
    log(`${scale}: writes (synchronous_commit=off: the CPU a write costs, not the disk's flush)`);
    report.writes = { scale, sections: await writes(arms, options) };
    report.bulk = { scale, results: await bulk([plain, whole], "postgres", options) };
    log(`${scale}: concurrent uploads at REPEATABLE READ, one content type and month`);
    // The third arm: the whole summary with each group on one row, as it would be without slots.
    await installMediaUsageSummary(user.db);
    await withoutSlots(user.db);
    report.concurrent = await concurrentUploads(
      [
        ["without summary", withDatabase(options.server, names[0] as string)],
        ["whole summary", withDatabase(options.server, names[2] as string)],
        ["whole summary, no slots", withDatabase(options.server, names[1] as string)],
      ],
      options,
    );
    const check = await verifyStorageSummary(whole.db);
    if (check.driftedRows > 0 || check.missing.length > 0) throw new Error("the summary drifted");
    log("  verified: the summary still matches the media tables");
  } finally {
    await closeAll(arms);
  }
  if (options.sqlite !== undefined) report.sqlite = await sqliteSection(options.sqlite, options);
  const file = join(RESULTS, `summary-storage-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  log(`Written to ${file}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
