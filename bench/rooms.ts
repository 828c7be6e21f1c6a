// Benchmark of the two largest-rooms estimators on a generated Synapse-shaped database: time,
// and accuracy against the exact per-room bytes, fresh and after a purge or a flood of events
// that no ANALYZE has seen. Run: npm run bench:rooms -- [--events N] [--rooms N] [--runs N]
// [--database postgres://...]. Prints a table; writes JSON to bench-results/.

import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { Knex } from "knex";
import {
  createRoomIndexes,
  createRoomTables,
  createScratchPostgres,
  exactRoomSizes,
  purgeRoom,
  rankRooms,
  seedRooms,
  startEmbeddedPostgres,
  type RoomPlan,
  type ScratchDatabase,
} from "../fixtures";
import { ROOM_TABLES_SQL, roomDatabases, type RoomTableRow } from "../lib/storage/rooms-catalogue";
import { estimateByPlanner } from "../lib/storage/rooms-planner";
import { estimateBySample, samplePercent, SAMPLE_TARGET_ROWS } from "../lib/storage/rooms-sample";
import {
  MAIN_ROOM_TABLES,
  STATE_ROOM_TABLES,
  type RoomsEstimate,
} from "../lib/storage/rooms-tables";

interface Settings {
  events: number;
  rooms: number;
  runs: number;
  seed: number;
  database: string | undefined;
}

const USAGE =
  "usage: node dist/bench/rooms.js [--events N] [--rooms N] [--runs N] [--seed N] [--database URL]";

function parseArguments(argv: readonly string[]): Settings {
  const settings: Settings = {
    events: 2_000_000,
    rooms: 6_000,
    runs: 7,
    seed: 1,
    database: process.env.TEST_PG_URL ?? process.env.DATABASE_URL,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag ?? ""} needs a value\n${USAGE}`);
    if (flag === "--database") {
      settings.database = value;
      continue;
    }
    const number = Number(value.replace(/[_,]/g, ""));
    if (!Number.isSafeInteger(number) || number < 1)
      throw new Error(`${flag ?? ""}: not a positive integer: ${value}`);
    if (flag === "--events") settings.events = number;
    else if (flag === "--rooms") settings.rooms = number;
    else if (flag === "--runs") settings.runs = number;
    else if (flag === "--seed") settings.seed = number;
    else throw new Error(`unknown option ${flag ?? ""}\n${USAGE}`);
  }
  if (settings.runs < 5) throw new Error("--runs: at least 5, for a median worth the name");
  return settings;
}

const log = (message: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
};

async function timed<T>(label: string, work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  const ms = performance.now() - started;
  log(`${label}: ${(ms / 1000).toFixed(1)} s`);
  return { value, ms };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

interface Measurement {
  scenario: string;
  estimator: "planner" | "sample";
  medianMs: number;
  runsMs: number[];
  /** Of the true top 10, how many the estimator lists. */
  recall: number;
  /** Whether its first three are the true first three, in order. */
  top3InOrder: boolean;
  /** |estimate − exact| / exact over the true top-10 rooms it lists. */
  medianError: number;
  worstError: number;
  rooms: RoomsEstimate["rooms"];
}

async function measure(
  db: Knex,
  scenario: string,
  settings: Settings,
): Promise<{ truth: Array<{ roomId: string; bytes: string }>; results: Measurement[] }> {
  const { value: exact } = await timed(`${scenario}: exact per-room bytes (reads every row)`, () =>
    exactRoomSizes(db),
  );
  const truth = rankRooms(exact);
  const trueTop = truth.slice(0, 10);
  const databases = roomDatabases(db, db);
  const estimators = {
    planner: () => estimateByPlanner(databases),
    sample: () => estimateBySample(databases, { statementTimeoutMs: 600_000 }),
  };
  const results: Measurement[] = [];
  for (const [estimator, run] of Object.entries(estimators) as Array<
    ["planner" | "sample", () => Promise<RoomsEstimate>]
  >) {
    await run(); // warm-up: caches, plans, connections
    const runsMs: number[] = [];
    let estimate: RoomsEstimate | undefined;
    for (let i = 0; i < settings.runs; i++) {
      const started = performance.now();
      estimate = await run();
      runsMs.push(performance.now() - started);
    }
    const rooms = estimate?.rooms ?? [];
    const listed = new Map(rooms.map((room) => [room.room_id, room.estimated_size]));
    const errors = trueTop
      .filter((room) => listed.has(room.roomId))
      .map(
        (room) =>
          Math.abs((listed.get(room.roomId) ?? 0) - Number(room.bytes)) / Number(room.bytes),
      );
    results.push({
      scenario,
      estimator,
      medianMs: median(runsMs),
      runsMs,
      recall: errors.length / trueTop.length,
      top3InOrder: rooms
        .slice(0, 3)
        .every((room, index) => room.room_id === trueTop[index]?.roomId),
      medianError: errors.length > 0 ? median(errors) : NaN,
      worstError: errors.length > 0 ? Math.max(...errors) : NaN,
      rooms,
    });
    log(`${scenario}: ${estimator} median ${median(runsMs).toFixed(1)} ms`);
  }
  return {
    truth: trueTop.map((room) => ({ roomId: room.roomId, bytes: room.bytes.toString() })),
    results,
  };
}

/** The pages the sample reads (TABLESAMPLE SYSTEM reads just those) and all the heap pages. */
async function samplePages(db: Knex): Promise<{ sampled: number; total: number }> {
  const tables = [...MAIN_ROOM_TABLES, ...STATE_ROOM_TABLES].filter(
    (table) => table !== "event_edges",
  );
  const catalogue = await db.raw<{ rows: RoomTableRow[] }>(ROOM_TABLES_SQL, [tables]);
  let sampled = 0;
  let total = 0;
  for (const row of catalogue.rows) {
    const pages = Number(row.heap_bytes) / row.block_size;
    total += pages;
    sampled += (pages * samplePercent(row, SAMPLE_TARGET_ROWS)) / 100;
  }
  return { sampled: Math.round(sampled), total: Math.round(total) };
}

/** pg_total_relation_size of each room table, fresh. */
async function tableSizes(db: Knex): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const table of [...MAIN_ROOM_TABLES, ...STATE_ROOM_TABLES]) {
    const result = await db.raw<{ rows: Array<{ bytes: string }> }>(
      "SELECT pg_total_relation_size(to_regclass(?))::text AS bytes",
      [table],
    );
    sizes[table] = Number(result.rows[0]?.bytes ?? 0);
  }
  return sizes;
}

const percent = (value: number): string =>
  Number.isNaN(value) ? "n/a" : `${(value * 100).toFixed(1)}%`;

function table(results: readonly Measurement[]): string {
  const header = [
    "situation",
    "estimator",
    "median time",
    "recall@10",
    "top 3 in order",
    "median error",
    "worst error",
  ];
  const rows = results.map((result) => [
    result.scenario,
    result.estimator,
    `${result.medianMs.toFixed(1)} ms`,
    `${Math.round(result.recall * 10)}/10`,
    result.top3InOrder ? "yes" : "no",
    percent(result.medianError),
    percent(result.worstError),
  ]);
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

async function main(): Promise<void> {
  const settings = parseArguments(process.argv.slice(2));
  let serverUrl = settings.database;
  let stopServer: (() => Promise<void>) | undefined;
  if (serverUrl === undefined) {
    log("starting an embedded PostgreSQL");
    const server = await startEmbeddedPostgres();
    serverUrl = server.url;
    stopServer = () => server.stop();
  }
  let scratch: ScratchDatabase | undefined;
  try {
    scratch = await createScratchPostgres(serverUrl, { prefix: "sas_bench" });
    const db = scratch.knex;
    const version = (
      await db.raw<{ rows: Array<{ version: string }> }>(
        "SELECT current_setting('server_version') AS version",
      )
    ).rows[0]?.version;
    log(`PostgreSQL ${version ?? "?"}, scratch database ${scratch.name}`);

    // Indexes after the load, autovacuum off: the statistics move only when the benchmark
    // says so, which is what "after a purge without ANALYZE" needs.
    const build = await timed(
      `building ${settings.events} events in ${settings.rooms} rooms`,
      async () => {
        await createRoomTables(db, { indexes: false, autovacuum: false });
        const plan = await seedRooms(db, {
          seed: settings.seed,
          rooms: settings.rooms,
          events: settings.events,
        });
        await createRoomIndexes(db);
        await db.raw("VACUUM ANALYZE");
        return plan;
      },
    );
    const plan: RoomPlan[] = build.value;
    const size = (
      await db.raw<{ rows: Array<{ bytes: string }> }>(
        "SELECT pg_database_size(current_database())::text AS bytes",
      )
    ).rows[0]?.bytes;
    const pages = await samplePages(db);
    const tableBytes = await tableSizes(db);
    const roomTablesBytes = Object.values(tableBytes).reduce((sum, bytes) => sum + bytes, 0);

    const fresh = await measure(db, "fresh statistics", settings);

    const purged = fresh.truth[0]?.roomId ?? "";
    await timed(`purging the largest room ${purged}`, () => purgeRoom(db, purged));
    const afterPurge = await measure(db, "after purge, no ANALYZE", settings);

    await timed("VACUUM ANALYZE (back to fresh statistics)", () => db.raw("VACUUM ANALYZE"));
    // A spam room: as many small events as the largest remaining room has, and half again.
    const largestLeft = Math.max(
      ...plan.filter((room) => room.roomId !== purged).map((room) => room.events),
    );
    const flood: RoomPlan = {
      roomId: "!spamFloodRoom:bench",
      events: Math.round(largestLeft * 1.5),
      eventBytes: 300,
    };
    await timed(`flooding ${flood.roomId} with ${flood.events} events`, () =>
      seedRooms(db, { seed: settings.seed + 1, rooms: [flood] }),
    );
    const afterFlood = await measure(db, "after flood, no ANALYZE", settings);

    const results = [...fresh.results, ...afterPurge.results, ...afterFlood.results];
    const summary = [
      `PostgreSQL ${version ?? "?"}; ${settings.events.toLocaleString("en")} events in ${settings.rooms.toLocaleString("en")} rooms; ` +
        `database ${(Number(size) / 2 ** 30).toFixed(2)} GiB; built in ${(build.ms / 1000).toFixed(0)} s; ` +
        `median of ${settings.runs} runs after a warm-up`,
      `sample reads about ${pages.sampled.toLocaleString("en")} of ${pages.total.toLocaleString("en")} heap pages ` +
        `(${((100 * pages.sampled) / pages.total).toFixed(2)}%); purged ${purged}; flooded ${flood.roomId} (${flood.events.toLocaleString("en")} events)`,
      `room tables: ${Object.entries(tableBytes)
        .map(([name, bytes]) => `${name} ${((100 * bytes) / roomTablesBytes).toFixed(1)}%`)
        .join(", ")}`,
    ];
    process.stdout.write(`\n${summary.join("\n")}\n\n${table(results)}\n`);

    const folder = resolve(__dirname, "../../bench-results");
    mkdirSync(folder, { recursive: true });
    const file = join(folder, `rooms-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          postgres: version,
          settings: {
            ...settings,
            database: settings.database === undefined ? "embedded" : "given",
          },
          databaseBytes: Number(size),
          buildMs: build.ms,
          samplePages: pages,
          tableBytes,
          purged,
          flood,
          truth: { fresh: fresh.truth, afterPurge: afterPurge.truth, afterFlood: afterFlood.truth },
          results,
        },
        null,
        2,
      )}\n`,
    );
    process.stdout.write(`\nwritten to ${file}\n`);
  } finally {
    await scratch?.drop();
    await stopServer?.();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
