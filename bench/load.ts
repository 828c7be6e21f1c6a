// `npm run bench:load`: the CLI service under load. autocannon on loopback, 64 connections for
// 30 s on the default request and on a search, against a generated database of 1M media rows
// (PostgreSQL). Reports requests/s, p50/p99 latency, errors, non-2xx, and the service's RSS at
// start and end. Usage: npm run bench:load -- [--database postgres://server]
//   [--duration 30] [--connections 64] [--scale M] [--summary]
// --summary installs the opt-in per-user summary for the run (and removes it after).

import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { freePort, openPostgres, withDatabase } from "../fixtures";
import { installMediaUsageSummary, uninstallMediaUsageSummary } from "../lib";
import {
  BENCH_ADMIN_TOKEN,
  buildDataset,
  holdsDataset,
  SCALES,
  type Scale,
} from "./media-database";
import { openBenchPostgres } from "./postgres";

const RESULTS = resolve(__dirname, "../../bench-results");
const CLI = resolve(__dirname, "../lib/cli/main.js");

/** Resident set size of a process, in MB, from /proc (Linux). */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: "string" },
      duration: { type: "string", default: "30" },
      connections: { type: "string", default: "64" },
      scale: { type: "string", default: "M" },
      seed: { type: "string", default: "1" },
      summary: { type: "boolean", default: false },
    },
  });
  const scale = values.scale as Scale;
  const seed = Number(values.seed);
  mkdirSync(RESULTS, { recursive: true, mode: 0o755 });
  const name = `sas_bench_media_${scale.toLowerCase()}_${seed}`;
  const { db, embedded } = await openBenchPostgres(values.database, name, RESULTS);
  try {
    if (!(await holdsDataset(db, scale, seed))) {
      process.stdout.write(
        `Building the ${scale} data set (${SCALES[scale].media.toLocaleString("en")} media)...\n`,
      );
      await buildDataset(db, scale, seed, (line) => process.stdout.write(`${line}\n`));
    }
    if (values.summary) await installMediaUsageSummary(db);
  } finally {
    await db.destroy();
  }
  const server =
    values.database ?? process.env.TEST_PG_URL ?? process.env.DATABASE_URL ?? embedded?.url;
  if (!server) throw new Error("no PostgreSQL server");
  const port = await freePort();
  const service = spawn(
    process.execPath,
    [
      CLI,
      "serve",
      "--database",
      withDatabase(server, name),
      "--listen",
      `127.0.0.1:${port}`,
      "--log-level",
      "warn",
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  try {
    const base = `http://127.0.0.1:${port}/_synapse/admin/v1/statistics/users/media`;
    for (let attempt = 0; ; attempt++) {
      const ready = await fetch(base).then(
        () => true,
        () => false,
      );
      if (ready) break;
      if (attempt > 100) throw new Error("the service did not start");
      await new Promise((done) => setTimeout(done, 100));
    }
    const headers = { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };
    // Warm-up, so that the first RSS reading is of a service that has served.
    for (let i = 0; i < 5; i++) await fetch(`${base}?search_term=ana.s`, { headers });
    const pid = service.pid as number;
    const rssStart = rssMb(pid);
    const results = [];
    for (const [label, url] of [
      ["default request", base],
      ["search (~1% of users)", `${base}?search_term=ana.s`],
    ] as const) {
      process.stdout.write(
        `${label}: ${values.connections} connections for ${values.duration} s...\n`,
      );
      const result = await autocannon({
        url,
        headers,
        connections: Number(values.connections),
        duration: Number(values.duration),
      });
      results.push({
        request: label,
        requestsPerSecond: result.requests.average,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        requests: result.requests.total,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
      });
    }
    const rssEnd = rssMb(pid);
    const lines = [
      "",
      `CLI service on PostgreSQL, ${SCALES[scale].media.toLocaleString("en")} media${values.summary ? ", per-user summary installed" : ""}, ${values.connections} connections, ${values.duration} s each:`,
      "| request | requests/s | p50 | p99 | errors | non-2xx |",
      "| --- | --- | --- | --- | --- | --- |",
      ...results.map(
        (row) =>
          `| ${row.request} | ${row.requestsPerSecond.toFixed(1)} | ${row.p50Ms} ms | ${row.p99Ms} ms | ${row.errors + row.timeouts} | ${row.non2xx} |`,
      ),
      `RSS of the service: ${rssStart.toFixed(1)} MB after warm-up, ${rssEnd.toFixed(1)} MB at the end (${(rssEnd - rssStart >= 0 ? "+" : "") + (rssEnd - rssStart).toFixed(1)} MB)`,
      "",
    ];
    process.stdout.write(lines.join("\n"));
    const file = join(RESULTS, `load-${scale}-${Date.now()}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          scale,
          summary: values.summary,
          connections: Number(values.connections),
          duration: Number(values.duration),
          rssStartMb: rssStart,
          rssEndMb: rssEnd,
          results,
        },
        null,
        2,
      ),
    );
    process.stdout.write(`Written to ${file}\n`);
    const failed =
      results.some((row) => row.errors + row.timeouts + row.non2xx > 0) || rssEnd - rssStart > 50;
    if (failed) process.exitCode = 1;
  } finally {
    service.kill("SIGTERM");
    await new Promise((done) => service.once("exit", done));
    if (values.summary) {
      const cleanup = openPostgres(withDatabase(server, name));
      await uninstallMediaUsageSummary(cleanup).finally(() => cleanup.destroy());
    }
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:load failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exitCode = 1;
});
