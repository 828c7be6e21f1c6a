// `npm run bench`: the users' media endpoint through its router (HTTP, in process) against
// Synapse's own statements on the same database, shape by shape, run alternately, medians and
// ratios. Usage: npm run bench -- [--scale S|M|L] [--dialect both|postgres|sqlite]
//   [--database postgres://server] [--runs 7] [--seed 1] [--indexes none|covering|window|both]
//   [--summary]   (installs the opt-in per-user summary for the run, and removes it after)
//   [--shapes window,search]   (only the request shapes whose names contain one of these)

import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Knex } from "knex";
import { openSqlite, type EmbeddedPostgresServer } from "../fixtures";
import { installMediaUsageSummary, uninstallMediaUsageSummary } from "../lib";
import {
  BENCH_ADMIN_TOKEN,
  BENCH_END_TS,
  buildDataset,
  holdsDataset,
  SCALES,
  type Scale,
} from "./media-database";
import { listenRouter } from "./bench-router";
import { median, timeMs } from "./measure";
import { openBenchPostgres } from "./postgres";
import { runSynapseStatements, type BaselineQuery } from "./synapse-baseline";

const RESULTS = resolve(__dirname, "../../bench-results");
const DAY_MS = 24 * 3600 * 1000;

interface Shape {
  name: string;
  query: BaselineQuery;
}

function shapes(scale: Scale): Shape[] {
  const base = { from: 0, limit: 100, orderBy: "user_id", dir: "f" } as const;
  const deep = Math.min(10_000, Math.floor(SCALES[scale].uploaders / 2));
  return [
    { name: "first page (order_by=user_id)", query: { ...base } },
    { name: "order_by=media_length&dir=b", query: { ...base, orderBy: "media_length", dir: "b" } },
    { name: "order_by=media_count&dir=b", query: { ...base, orderBy: "media_count", dir: "b" } },
    { name: "order_by=displayname", query: { ...base, orderBy: "displayname" } },
    { name: `from=${deep}`, query: { ...base, from: deep } },
    {
      name: "30-day window",
      query: { ...base, fromTs: BENCH_END_TS - 30 * DAY_MS, untilTs: BENCH_END_TS },
    },
    // "ana.s": Ana Smith and Ana Silva, about 1.25% of the uploaders.
    { name: "search (~1% of users)", query: { ...base, searchTerm: "ana.s" } },
  ];
}

const OPTIONAL_INDEXES = {
  covering:
    "CREATE INDEX sas_bench_media_covering ON local_media_repository (user_id, created_ts, media_length)",
  window:
    "CREATE INDEX sas_bench_media_window ON local_media_repository (created_ts, user_id, media_length)",
} as const;

function toSearchParams(query: BaselineQuery): string {
  const params = new URLSearchParams({
    from: String(query.from),
    limit: String(query.limit),
    order_by: query.orderBy,
    dir: query.dir,
  });
  if (query.fromTs) params.set("from_ts", String(query.fromTs));
  if (query.untilTs) params.set("until_ts", String(query.untilTs));
  if (query.searchTerm) params.set("search_term", query.searchTerm);
  return params.toString();
}

interface ShapeResult {
  shape: string;
  packageMs: number;
  synapseMs: number;
  ratio: number;
  total: number;
  packageRuns: number[];
  synapseRuns: number[];
}

async function benchDatabase(
  db: Knex,
  label: string,
  scale: Scale,
  runs: number,
  only: string[],
): Promise<ShapeResult[]> {
  const { server, base } = await listenRouter(db, "/v1/statistics/users/media");
  const results: ShapeResult[] = [];
  try {
    for (const shape of shapes(scale).filter(
      (candidate) => only.length === 0 || only.some((part) => candidate.name.includes(part)),
    )) {
      const url = `${base}?${toSearchParams(shape.query)}`;
      let total = 0;
      const viaPackage = async () => {
        const res = await fetch(url, { headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
        if (res.status !== 200)
          throw new Error(`${shape.name}: HTTP ${res.status} ${await res.text()}`);
        total = ((await res.json()) as { total: number }).total;
      };
      const viaSynapse = () => runSynapseStatements(db, shape.query);
      // Warm-up: caches and plans for both, not measured.
      await viaPackage();
      await viaSynapse();
      const packageRuns: number[] = [];
      const synapseRuns: number[] = [];
      for (let run = 0; run < runs; run++) {
        packageRuns.push(await timeMs(viaPackage));
        synapseRuns.push(await timeMs(viaSynapse));
      }
      const result = {
        shape: shape.name,
        packageMs: median(packageRuns),
        synapseMs: median(synapseRuns),
        ratio: median(synapseRuns) / median(packageRuns),
        total,
        packageRuns,
        synapseRuns,
      };
      results.push(result);
      process.stdout.write(
        `  ${label.padEnd(10)} ${shape.name.padEnd(32)} package ${result.packageMs.toFixed(1).padStart(9)} ms   synapse ${result.synapseMs.toFixed(1).padStart(9)} ms   ${result.ratio.toFixed(2).padStart(6)}x   (total ${total})\n`,
      );
    }
  } finally {
    server.close();
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: "string", default: "S" },
      dialect: { type: "string", default: "both" },
      database: { type: "string" },
      runs: { type: "string", default: "7" },
      seed: { type: "string", default: "1" },
      indexes: { type: "string", default: "none" },
      summary: { type: "boolean", default: false },
      shapes: { type: "string" },
    },
  });
  const scale = values.scale as Scale;
  if (!(scale in SCALES)) throw new Error(`--scale must be S, M or L`);
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  const indexes =
    values.indexes === "both"
      ? (["covering", "window"] as const)
      : values.indexes === "none"
        ? []
        : [values.indexes as keyof typeof OPTIONAL_INDEXES];
  const dialects =
    values.dialect === "both"
      ? scale === "L"
        ? ["postgres"]
        : ["sqlite", "postgres"]
      : [values.dialect as string];
  mkdirSync(RESULTS, { recursive: true, mode: 0o755 });

  const report: Record<string, unknown> = {
    scale,
    seed,
    runs,
    indexes,
    summary: values.summary,
    date: new Date().toISOString(),
    results: {},
  };
  let embedded: EmbeddedPostgresServer | undefined;
  try {
    for (const dialect of dialects) {
      let db: Knex;
      if (dialect === "sqlite") {
        const dataDir = join(RESULTS, "data");
        mkdirSync(dataDir, { recursive: true });
        db = openSqlite(join(dataDir, `media-${scale}-${seed}.sqlite`));
      } else {
        const opened = await openBenchPostgres(
          values.database,
          `sas_bench_media_${scale.toLowerCase()}_${seed}`,
          RESULTS,
        );
        db = opened.db;
        embedded ??= opened.embedded;
      }
      try {
        if (!(await holdsDataset(db, scale, seed))) {
          process.stdout.write(
            `Building the ${scale} data set on ${dialect} (${SCALES[scale].media.toLocaleString("en")} media)...\n`,
          );
          await buildDataset(db, scale, seed, (line) => process.stdout.write(`${line}\n`));
        }
        for (const name of indexes) await db.raw(OPTIONAL_INDEXES[name]);
        if (indexes.length > 0) await db.raw("ANALYZE local_media_repository");
        if (values.summary) {
          const started = Date.now();
          await installMediaUsageSummary(db);
          process.stdout.write(
            `Installed the per-user summary in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
          );
        }
        const extras = [
          ...(indexes.length ? [`optional indexes: ${indexes.join(", ")}`] : []),
          ...(values.summary ? ["per-user summary"] : []),
        ];
        process.stdout.write(
          `\n${dialect}, scale ${scale}, ${runs} runs each, alternating, medians${extras.length ? `, ${extras.join(", ")}` : ""}:\n`,
        );
        (report.results as Record<string, unknown>)[dialect] = await benchDatabase(
          db,
          dialect,
          scale,
          runs,
          values.shapes ? values.shapes.split(",") : [],
        );
      } finally {
        for (const name of indexes) await db.raw(`DROP INDEX IF EXISTS sas_bench_media_${name}`);
        if (values.summary) await uninstallMediaUsageSummary(db);
        await db.destroy();
      }
    }
  } finally {
    await embedded?.stop();
  }
  const file = join(RESULTS, `users-media-${scale}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  process.stdout.write(`\nWritten to ${file}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
