// `npm run bench:standby`: the router on a hot standby while the primary churns its media
// table (uploads, access-time updates, retention deletes, as Synapse writes it). For
// hot_standby_feedback off, then on, the same stream of requests goes to two routers on the
// standby side by side: as the router was (no retry: a read the standby cancels is a 500) and
// as it is (retried on a fresh connection; what still fails is a 503 with Retry-After).
// Usage: npm run bench:standby -- [--requests 2000] [--concurrency 4] [--scale S]
//   [--delay 0] [--churn 100]
// --requests per router and setting; --churn the primary's media writes per second; --delay
// the standby's max_standby_streaming_delay. Its default here, 0, is where a busy standby ends
// up whatever it is set to: the delay bounds the time to apply WAL once received, so once reads
// have held replay back that long, later conflicts get little or no grace until it catches up.

import type { Server } from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import express from "express";
import type { Knex } from "knex";
import { createPostgresDatabase, openPostgres, startStandbyPair, withDatabase } from "../fixtures";
import { createStatisticsRouter, synapseAccessTokenAuth } from "../lib";
import { usersMediaEndpoint } from "../lib/endpoints/users-media";
import { authenticateAdmin } from "../lib/http/authenticate";
import { rawQueryOf } from "../lib/http/query-string";
import { sendBody, sendError } from "../lib/http/respond";
import { Admission } from "../lib/execution/admission";
import { admissionLimits } from "../lib/execution/limits";
import { inRequestScope } from "../lib/execution/scope";
import { requestLogContext } from "../lib/http/request-context";
import { silentLogger, type Logger } from "../lib/logger";
import { resolveOptions } from "../lib/options";
import { findAccessTokenOwner } from "../lib/storage/access-tokens";
import {
  BENCH_ADMIN_TOKEN,
  BENCH_END_TS,
  buildDataset,
  SCALES,
  type Scale,
} from "./media-database";

const RESULTS = resolve(__dirname, "../../bench-results");
const DATABASE = "synapse";
const MOUNT = "/_synapse/admin";
const PATH = `${MOUNT}${usersMediaEndpoint.contract.path}`;

/** What an admin UI asks for: the list page, sorted by each column, and a search. */
const REQUESTS = [
  "",
  "?order_by=media_length&dir=b",
  "?order_by=media_count&dir=b&limit=50",
  "?order_by=displayname",
  "?search_term=ana",
];

interface Tally {
  requests: number;
  ok: number;
  /** Failures by status; `503+` counts those with a Retry-After header. */
  failed: Record<string, number>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: "string", default: "2000" },
      concurrency: { type: "string", default: "4" },
      scale: { type: "string", default: "S" },
      delay: { type: "string", default: "0" },
      churn: { type: "string", default: "100" },
      seed: { type: "string", default: "1" },
    },
  });
  const scale = values.scale as Scale;
  if (!(scale in SCALES)) throw new Error(`--scale must be one of ${Object.keys(SCALES)}`);
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const churnPerSecond = Number(values.churn);

  process.stdout.write(`Starting a primary and a standby with the ${scale} data set...\n`);
  const pair = await startStandbyPair({
    prepare: async (serverUrl) => {
      const db = openPostgres(await createPostgresDatabase(serverUrl, DATABASE));
      try {
        await buildDataset(db, scale, Number(values.seed), (line) =>
          process.stdout.write(`${line}\n`),
        );
      } finally {
        await db.destroy();
      }
    },
    standbySettings: {
      hot_standby_feedback: "off",
      max_standby_streaming_delay: values.delay,
    },
  });
  const primary = openPostgres(withDatabase(pair.primary.url, DATABASE), { min: 0, max: 2 });
  const standbyUrl = withDatabase(pair.standby.url, DATABASE);
  const observer = openPostgres(standbyUrl, { min: 0, max: 1 });
  const pools = [primary, observer];
  const servers: Server[] = [];
  const churn = startChurn(primary, churnPerSecond);
  try {
    const pool = { min: 0, max: concurrency };
    const withoutRetry = openPostgres(standbyUrl, pool);
    const withRetry = openPostgres(standbyUrl, pool);
    pools.push(withoutRetry, withRetry);
    const causes = new Map<string, number>();
    const causeCounter: Logger = {
      ...silentLogger,
      error: (details) => {
        const cause = `${String(details.code ?? "")} ${String(details.message ?? "")}`.trim();
        causes.set(cause, (causes.get(cause) ?? 0) + 1);
      },
    };
    const before = await listen(routerWithoutRetry(withoutRetry, causeCounter), servers);
    const after = await listen(
      createStatisticsRouter({
        knex: withRetry,
        authCheck: synapseAccessTokenAuth(withRetry, { logger: silentLogger }),
        logger: silentLogger,
      }),
      servers,
    );

    const rows: Array<{ feedback: string; before: Tally; after: Tally; conflicts: Conflicts }> = [];
    for (const feedback of ["off", "on"]) {
      await pair.standby.reconfigure({ hot_standby_feedback: feedback });
      // Let the churn run into the new setting before counting.
      await new Promise((done) => setTimeout(done, 3000));
      process.stdout.write(
        `hot_standby_feedback = ${feedback}: ${requests} requests to each router...\n`,
      );
      causes.clear();
      const conflictsBefore = await conflicts(observer);
      const [tallyBefore, tallyAfter] = await run([before, after], requests, concurrency);
      if (!tallyBefore || !tallyAfter) throw new Error("a router was not measured");
      const conflictsAfter = await conflicts(observer);
      process.stdout.write(
        `  without retry, failed on: ${[...causes].map(([cause, count]) => `${count} × ${cause}`).join("; ") || "nothing"}\n`,
      );
      rows.push({
        feedback,
        before: tallyBefore,
        after: tallyAfter,
        conflicts: subtract(conflictsAfter, conflictsBefore),
      });
    }
    report(rows, {
      scale,
      requests,
      concurrency,
      delay: values.delay,
      churnPerSecond,
      writes: churn.writes(),
    });
    if (rows.some((row) => row.feedback === "on" && !meetsTarget(row.after))) process.exitCode = 1;
  } finally {
    await churn.stop();
    for (const server of servers) server.close();
    await Promise.all(pools.map((pool) => pool.destroy()));
    await pair.stop();
  }
}

/**
 * The router as it was before retries: the same admin check and handler, a failure answered
 * as sendError answers it (a transient one too, as a 500).
 */
function routerWithoutRetry(db: Knex, causes: Logger): express.RequestHandler {
  const options = resolveOptions({
    knex: db,
    authCheck: async (token) => {
      const owner = await findAccessTokenOwner(db, token);
      return owner ? { userId: owner.userId, admin: owner.admin } : null;
    },
    logger: silentLogger,
  });
  const handler = usersMediaEndpoint.createHandler(options);
  const admission = new Admission(admissionLimits(db, options));
  const router = express.Router();
  router.get(usersMediaEndpoint.contract.path, async (req, res) => {
    try {
      const query = rawQueryOf(req);
      await authenticateAdmin(req, query, options.authCheck, () => undefined);
      const signal = new AbortController().signal;
      // One attempt, as the router runs it, and no retry.
      await inRequestScope(
        { signal, admissionFor: () => admission, logger: silentLogger },
        async (scope) =>
          sendBody(
            res,
            200,
            await handler(query, { signal, scope, logContext: () => requestLogContext(req) }),
          ),
      );
    } catch (error) {
      sendError(res, error, causes, { path: req.path, secrets: [] });
    }
  });
  return router;
}

async function listen(router: express.RequestHandler, servers: Server[]): Promise<string> {
  const app = express();
  app.use(MOUNT, router);
  const server = await new Promise<Server>((ready) => {
    const started = app.listen(0, "127.0.0.1", () => ready(started));
  });
  servers.push(server);
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no address");
  return `http://127.0.0.1:${address.port}${PATH}`;
}

/**
 * Sends `requests` requests to each base URL, alternating between them, `concurrency` at a
 * time: both routers see the same mix under the same churn.
 */
async function run(bases: string[], requests: number, concurrency: number): Promise<Tally[]> {
  const tallies = bases.map(() => ({ requests: 0, ok: 0, failed: {} }) as Tally);
  let next = 0;
  const total = requests * bases.length;
  const worker = async () => {
    while (next < total) {
      const index = next++;
      const which = index % bases.length;
      const tally = tallies[which] as Tally;
      const query = REQUESTS[Math.floor(index / bases.length) % REQUESTS.length] ?? "";
      const res = await fetch(`${bases[which]}${query}`, {
        headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
      });
      await res.arrayBuffer();
      tally.requests++;
      if (res.status === 200) {
        tally.ok++;
      } else {
        const key = `${res.status}${res.headers.get("retry-after") ? "+" : ""}`;
        tally.failed[key] = (tally.failed[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency * bases.length }, worker));
  return tallies;
}

/**
 * Writes to the primary's media table at about `perSecond` rows a second, as a Synapse does:
 * new uploads, access times of recent media, and the retention purge of the oldest.
 */
function startChurn(db: Knex, perSecond: number): { stop(): Promise<void>; writes(): number } {
  let running = true;
  let writes = 0;
  let serial = 0;
  const batch = 10;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      const ids = Array.from({ length: batch }, () => `churn-${serial++}`);
      await db.transaction(async (trx) => {
        await trx("local_media_repository").insert(
          ids.map((media_id, index) => ({
            media_id,
            media_type: "image/jpeg",
            media_length: 1000 + index,
            created_ts: BENCH_END_TS + serial,
            user_id: `@churner${serial % 50}:bench.example`,
          })),
        );
      });
      await db.raw(
        `UPDATE local_media_repository SET last_access_ts = ?
          WHERE media_id IN (SELECT media_id FROM local_media_repository
                              WHERE created_ts IS NOT NULL ORDER BY created_ts DESC LIMIT ?)`,
        [Date.now(), batch],
      );
      await db.raw(
        `DELETE FROM local_media_repository
          WHERE media_id IN (SELECT media_id FROM local_media_repository
                              WHERE created_ts IS NOT NULL ORDER BY created_ts LIMIT ?)`,
        [batch],
      );
      writes += 3 * batch;
      const wait = (3 * batch * 1000) / perSecond - (Date.now() - started);
      if (wait > 0) await new Promise((done) => setTimeout(done, wait));
    }
  })();
  return {
    writes: () => writes,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

type Conflicts = Record<"snapshot" | "lock" | "bufferpin" | "deadlock", number>;

/** The standby's count of statements cancelled by recovery conflicts, by kind. */
async function conflicts(db: Knex): Promise<Conflicts> {
  // Statistics reach the shared counters within a second or so.
  await new Promise((done) => setTimeout(done, 1500));
  const result = await db.raw<{ rows: Array<Record<string, string>> }>(
    `SELECT confl_snapshot, confl_lock, confl_bufferpin, confl_deadlock
       FROM pg_stat_database_conflicts WHERE datname = current_database()`,
  );
  const row = result.rows[0] ?? {};
  return {
    snapshot: Number(row.confl_snapshot ?? 0),
    lock: Number(row.confl_lock ?? 0),
    bufferpin: Number(row.confl_bufferpin ?? 0),
    deadlock: Number(row.confl_deadlock ?? 0),
  };
}

const subtract = (a: Conflicts, b: Conflicts): Conflicts => ({
  snapshot: a.snapshot - b.snapshot,
  lock: a.lock - b.lock,
  bufferpin: a.bufferpin - b.bufferpin,
  deadlock: a.deadlock - b.deadlock,
});

const failedCount = (tally: Tally): number =>
  Object.values(tally.failed).reduce((sum, count) => sum + count, 0);

const percent = (tally: Tally): string =>
  `${((100 * failedCount(tally)) / Math.max(1, tally.requests)).toFixed(2)}%`;

const breakdown = (tally: Tally): string =>
  Object.entries(tally.failed)
    .map(([status, count]) => `${count} × ${status.replace("+", " with Retry-After")}`)
    .join(", ") || "none";

/** The issue's target: at most 0.5% failing, each one a 503 with Retry-After. */
const meetsTarget = (tally: Tally): boolean =>
  failedCount(tally) <= tally.requests * 0.005 &&
  Object.keys(tally.failed).every((status) => status === "503+");

function report(
  rows: Array<{ feedback: string; before: Tally; after: Tally; conflicts: Conflicts }>,
  setup: {
    scale: Scale;
    requests: number;
    concurrency: number;
    delay: string;
    churnPerSecond: number;
    writes: number;
  },
): void {
  const lines = [
    "",
    `Router on a hot standby (max_standby_streaming_delay = ${setup.delay}), ${SCALES[setup.scale].media.toLocaleString("en")} media, primary churning ~${setup.churnPerSecond} media writes/s (${setup.writes.toLocaleString("en")} in all); ${setup.requests} requests per router and setting, ${setup.concurrency} at a time to each:`,
    "| hot_standby_feedback | failed without retry | failed with retry | failures with retry | statements cancelled on the standby |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map(
      (row) =>
        `| ${row.feedback} | ${percent(row.before)} (${breakdown(row.before)}) | ${percent(row.after)} | ${breakdown(row.after)} | ${
          Object.entries(row.conflicts)
            .filter(([, count]) => count > 0)
            .map(([kind, count]) => `${count} ${kind}`)
            .join(", ") || "none"
        } |`,
    ),
    "",
  ];
  process.stdout.write(lines.join("\n"));
  mkdirSync(RESULTS, { recursive: true, mode: 0o755 });
  const file = join(RESULTS, `standby-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ ...setup, rows }, null, 2));
  process.stdout.write(`Written to ${file}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:standby failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exitCode = 1;
});
