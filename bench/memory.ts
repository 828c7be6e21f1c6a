// `npm run bench:memory`: the CLI service's memory under whole-list requests. N concurrent
// `limit=1000000000` requests (Synapse sets no bound on limit) on a database of 300,000
// uploaders, on PostgreSQL and on SQLite; reports each run's answers and the service's peak
// RSS (VmHWM). Target (issue 11): 16 such requests keep RSS under 600 MB, each answered 200
// or 503. With --before <dist/lib/cli/main.js of another build>, that build runs alternately
// with this one on the same data, and the table shows both side by side with their ratio.
// Usage: npm run bench:memory -- [--database postgres://server] [--dialect both|postgres|sqlite]
//   [--requests 16] [--rounds 1] [--scale U] [--before /path/to/dist/lib/cli/main.js]

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { freePort, openSqlite, withDatabase, type EmbeddedPostgresServer } from "../fixtures";
import {
  BENCH_ADMIN_TOKEN,
  buildDataset,
  holdsDataset,
  SCALES,
  type Scale,
} from "./media-database";
import { openBenchPostgres } from "./postgres";

const RESULTS = resolve(__dirname, "../../bench-results");
const THIS_CLI = resolve(__dirname, "../lib/cli/main.js");
const TARGET_PEAK_MB = 600;

/** A field of /proc/<pid>/status in MB (Linux): VmRSS now, VmHWM the peak so far. */
function statusMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

interface Run {
  backend: "postgres" | "sqlite";
  build: "before" | "after";
  startMb: number;
  peakMb: number;
  statuses: Record<string, number>;
  seconds: number;
}

async function startService(
  cli: string,
  database: string,
): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [cli, "serve", "--database", database, "--listen", `127.0.0.1:${port}`, "--log-level", "warn"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const base = `http://127.0.0.1:${port}/_synapse/admin/v1/statistics/users/media`;
  for (let attempt = 0; ; attempt++) {
    if (
      await fetch(base).then(
        () => true,
        () => false,
      )
    )
      break;
    if (child.exitCode !== null || attempt > 300)
      throw new Error(`the service did not start: ${cli}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  return { child, base };
}

/** Reads a response to its end, counting bytes only: the client must hold nothing. */
async function drain(response: Response): Promise<void> {
  const reader = response.body?.getReader();
  if (!reader) return;
  for (;;) {
    const { done } = await reader.read();
    if (done) return;
  }
}

async function measure(
  cli: string,
  database: string,
  backend: Run["backend"],
  build: Run["build"],
  requests: number,
): Promise<Run> {
  const { child, base } = await startService(cli, database);
  try {
    const headers = { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };
    // Warm-up: schema probe, pools, JIT; the start figure is of a service that has served.
    await drain(await fetch(`${base}?limit=10`, { headers }));
    const pid = child.pid as number;
    const startMb = statusMb(pid, "VmRSS");
    const statuses: Record<string, number> = {};
    const started = Date.now();
    await Promise.all(
      Array.from({ length: requests }, async () => {
        const response = await fetch(`${base}?limit=1000000000`, { headers }).catch(
          () => undefined,
        );
        const status = response === undefined ? "error" : String(response.status);
        if (response) await drain(response).catch(() => undefined);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }),
    );
    return {
      backend,
      build,
      startMb,
      peakMb: statusMb(pid, "VmHWM"),
      statuses,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise((done) => child.once("exit", done));
  }
}

async function sqliteDatabase(scale: Scale, seed: number): Promise<string> {
  const file = join(RESULTS, `memory-${scale.toLowerCase()}-${seed}.sqlite`);
  const existed = existsSync(file);
  const db = openSqlite(file);
  try {
    if (!(await holdsDataset(db, scale, seed))) {
      if (existed) throw new Error(`${file} holds another data set: remove it`);
      process.stdout.write(`Building the SQLite data set (${file})...\n`);
      await db.raw("PRAGMA journal_mode = WAL");
      await buildDataset(db, scale, seed, (line) => process.stdout.write(`${line}\n`));
    }
  } finally {
    await db.destroy();
  }
  return file;
}

async function postgresDatabase(
  serverUrl: string | undefined,
  scale: Scale,
  seed: number,
): Promise<{ url: string; embedded?: EmbeddedPostgresServer }> {
  const name = `sas_bench_memory_${scale.toLowerCase()}_${seed}`;
  const { db, embedded } = await openBenchPostgres(serverUrl, name, RESULTS);
  try {
    if (!(await holdsDataset(db, scale, seed))) {
      process.stdout.write("Building the PostgreSQL data set...\n");
      await buildDataset(db, scale, seed, (line) => process.stdout.write(`${line}\n`));
    }
  } finally {
    await db.destroy();
  }
  const server = serverUrl ?? process.env.TEST_PG_URL ?? process.env.DATABASE_URL ?? embedded?.url;
  if (!server) throw new Error("no PostgreSQL server");
  return { url: withDatabase(server, name), ...(embedded ? { embedded } : {}) };
}

function report(runs: Run[], requests: number, scale: Scale): string {
  const cell = (run: Run | undefined): string =>
    run === undefined
      ? "-"
      : `${run.peakMb.toFixed(0)} MB (start ${run.startMb.toFixed(0)} MB; ${Object.entries(
          run.statuses,
        )
          .map(([status, count]) => `${count}x ${status}`)
          .join(", ")}; ${run.seconds.toFixed(1)} s)`;
  const lines = [
    "",
    `Peak RSS of the CLI service, ${requests} concurrent limit=1000000000 requests, ${SCALES[scale].uploaders.toLocaleString("en")} uploaders (${SCALES[scale].media.toLocaleString("en")} media):`,
    "| backend | before | after | peak after / before |",
    "| --- | --- | --- | --- |",
  ];
  for (const backend of ["postgres", "sqlite"] as const) {
    const ofBuild = (build: Run["build"]) =>
      runs.filter((run) => run.backend === backend && run.build === build);
    const after = ofBuild("after");
    if (after.length === 0) continue;
    const worst = (list: Run[]) =>
      list.reduce<Run | undefined>((a, b) => (a && a.peakMb >= b.peakMb ? a : b), undefined);
    const before = worst(ofBuild("before"));
    const last = worst(after);
    const ratio = before && last ? (last.peakMb / before.peakMb).toFixed(2) : "-";
    lines.push(`| ${backend} | ${cell(before)} | ${cell(last)} | ${ratio} |`);
  }
  return `${lines.join("\n")}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: "string" },
      dialect: { type: "string", default: "both" },
      requests: { type: "string", default: "16" },
      rounds: { type: "string", default: "1" },
      scale: { type: "string", default: "U" },
      seed: { type: "string", default: "1" },
      before: { type: "string" },
    },
  });
  const scale = values.scale as Scale;
  if (!(scale in SCALES)) throw new Error(`unknown scale ${scale}`);
  const seed = Number(values.seed);
  const requests = Number(values.requests);
  mkdirSync(RESULTS, { recursive: true, mode: 0o755 });
  const builds: Array<[Run["build"], string]> = [
    ...(values.before ? [["before", resolve(values.before)] as [Run["build"], string]] : []),
    ["after", THIS_CLI],
  ];
  const targets: Array<[Run["backend"], string]> = [];
  let embedded: EmbeddedPostgresServer | undefined;
  if (values.dialect !== "sqlite") {
    const postgres = await postgresDatabase(values.database, scale, seed);
    embedded = postgres.embedded;
    targets.push(["postgres", postgres.url]);
  }
  if (values.dialect !== "postgres") targets.push(["sqlite", await sqliteDatabase(scale, seed)]);
  const runs: Run[] = [];
  try {
    // Alternately, so that both builds meet the same noise from the shared machine.
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const [backend, database] of targets) {
        for (const [build, cli] of builds) {
          process.stdout.write(`${backend}, ${build}: ${requests} requests...\n`);
          runs.push(await measure(cli, database, backend, build, requests));
        }
      }
    }
  } finally {
    await embedded?.stop();
  }
  process.stdout.write(report(runs, requests, scale));
  const file = join(RESULTS, `memory-${scale}-${Date.now()}.json`);
  writeFileSync(
    file,
    JSON.stringify({ scale, requests, targetPeakMb: TARGET_PEAK_MB, runs }, null, 2),
  );
  process.stdout.write(`Written to ${file}\n`);
  const missed = runs.filter(
    (run) =>
      run.build === "after" &&
      (run.peakMb >= TARGET_PEAK_MB ||
        Object.keys(run.statuses).some((s) => s !== "200" && s !== "503")),
  );
  if (missed.length > 0) {
    process.stdout.write(
      `Target missed (peak >= ${TARGET_PEAK_MB} MB, or an answer other than 200/503).\n`,
    );
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:memory failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exitCode = 1;
});
