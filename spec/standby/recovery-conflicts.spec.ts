// Issue 10, hot standby: a read that the standby cancels to replay the primary's changes, or
// whose connection is ended under it, is tried again on a fresh connection; what still fails
// is a 503 M_UNKNOWN with Retry-After; and the log says once what happened and which standby
// settings avoid it, without SQL. The standby here cancels at once (hot_standby_feedback off,
// max_standby_streaming_delay 0), and each conflict is made on cue: the read waits on a lock
// replayed from the primary while it holds another, which the primary then takes too.

import type { Knex } from "knex";
import request from "supertest";
import {
  insertMediaDataset,
  openPostgres,
  randomMediaDataset,
  STANDARD_TOKENS,
} from "../../fixtures";
import { createTestApp, recordingLogger, USERS_MEDIA, type LogRecord } from "../helpers/app";
import { expectMatrixError } from "../helpers/matrix";
import { expectedUsersMedia } from "../helpers/oracle";
import {
  aReadWaits,
  conflictOn,
  holdOnStandby,
  useSynapseReplicas,
  waitingOnStandby,
} from "../helpers/standby";

const DATASET = randomMediaDataset({ seed: 1010, users: 30 });
const replicas = useSynapseReplicas((db) => insertMediaDataset(db, DATASET), {
  hot_standby_feedback: "off",
  max_standby_streaming_delay: "0",
});

const pools: Knex[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.destroy()));
});

/**
 * The router on the standby, on a pool of its own; `failures` lists its failed statements'
 * SQLSTATEs. It has answered once already, so that what it learns of the schema on first use
 * (which reads profiles and users) is known: each test then stages its conflict on the one
 * statement that reads the page.
 */
async function standbyApp(pool: Knex.PoolConfig = { min: 0, max: 2 }) {
  const knex = openPostgres(replicas.current.standbyUrl, pool);
  pools.push(knex);
  const failures: unknown[] = [];
  knex.on("query-error", (error: { code?: unknown }) => failures.push(error.code));
  const { logger, records } = recordingLogger();
  const app = createTestApp({ knex, logger });
  expect((await askForMedia(app)).status).toBe(200);
  return { app, knex, records, failures };
}

/** Starts a request for the first page of users' media, as the admin. */
function askForMedia(app: ReturnType<typeof createTestApp>): Promise<request.Response> {
  return request(app)
    .get(USERS_MEDIA)
    .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`)
    .then((res) => res);
}

const warnings = (records: readonly LogRecord[]) =>
  records.filter((record) => record.level === "warn");

test("a read cancelled by a recovery conflict is tried again and answered 200; one warning names the cause and the standby settings, without SQL", async () => {
  const { app, records, failures } = await standbyApp();
  for (let round = 1; round <= 2; round++) {
    const release = await holdOnStandby(replicas.current, "profiles");
    let answer: Promise<request.Response>;
    try {
      answer = askForMedia(app);
      // The read holds local_media_repository and waits for profiles: the primary's lock on
      // local_media_repository, replayed, cancels it (before the release of profiles is: WAL
      // is replayed in order).
      await aReadWaits(replicas.current);
      await conflictOn(replicas.current, "local_media_repository");
    } finally {
      await release();
    }
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expectedUsersMedia(DATASET, {}));
    expect(failures).toEqual(Array(round).fill("40001"));
  }
  // Two conflicts, one warning.
  expect(warnings(records)).toHaveLength(1);
  expect(records).toHaveLength(1);
  const [warning] = records;
  expect(warning?.details).toEqual({
    cause: "recovery-conflict",
    code: "40001",
    detail: "User was holding a relation lock for too long.",
  });
  expect(warning?.message).toContain("retrying");
  expect(warning?.message).toContain("hot_standby_feedback");
  expect(warning?.message).toContain("max_standby_streaming_delay");
  expect(JSON.stringify(records)).not.toMatch(/select|local_media_repository|profiles|\$1/i);
});

test("a read cancelled on every try is answered 503 M_UNKNOWN with Retry-After", async () => {
  const { app, records, failures } = await standbyApp();
  const release = await holdOnStandby(replicas.current, "profiles");
  let res: request.Response;
  try {
    let settled = false;
    const answer = askForMedia(app).finally(() => {
      settled = true;
    });
    // Every try holds local_media_repository while it waits for profiles, and is cancelled.
    while (!settled) {
      if ((await waitingOnStandby(replicas.current)).length > 0) {
        await conflictOn(replicas.current, "local_media_repository");
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    res = await answer;
  } finally {
    await release();
  }
  expectMatrixError(res, 503, "M_UNKNOWN", "The database is temporarily unavailable");
  expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  // The first try and two retries.
  expect(failures).toEqual(["40001", "40001", "40001"]);
  expect(warnings(records).map((record) => record.details.cause)).toEqual(["recovery-conflict"]);
});

test("a token lookup cancelled by a recovery conflict is tried again", async () => {
  const { app, records, failures } = await standbyApp();
  const release = await holdOnStandby(replicas.current, "users");
  let answer: Promise<request.Response>;
  try {
    answer = askForMedia(app);
    // The lookup holds access_tokens and waits for users.
    await aReadWaits(replicas.current);
    await conflictOn(replicas.current, "access_tokens");
  } finally {
    await release();
  }
  const res = await answer;
  expect(res.status).toBe(200);
  expect(res.body).toEqual(expectedUsersMedia(DATASET, {}));
  expect(failures).toEqual(["40001"]);
  expect(records.map((record) => record.details.cause)).toEqual(["recovery-conflict"]);
});

test("a connection ended under a read (pg_terminate_backend) is tried again on a fresh connection", async () => {
  // One connection in the pool: the retry can only run on a new one if the ended one is dropped.
  const { app, records } = await standbyApp({ min: 0, max: 1 });
  const release = await holdOnStandby(replicas.current, "profiles");
  let answer: Promise<request.Response>;
  let ended: number;
  let retriedOn: number;
  try {
    answer = askForMedia(app);
    ended = await aReadWaits(replicas.current);
    await replicas.current.standby.raw("SELECT pg_terminate_backend(?)", [ended]);
    retriedOn = await aReadWaits(replicas.current, [ended]);
  } finally {
    await release();
  }
  const res = await answer;
  expect(res.status).toBe(200);
  expect(res.body).toEqual(expectedUsersMedia(DATASET, {}));
  expect(retriedOn).not.toBe(ended);
  expect(records.map((record) => record.details)).toEqual([
    { cause: "connection-lost", code: "57P01" },
  ]);
});
