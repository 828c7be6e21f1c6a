// Issue 10, hot standby: a router on a streaming replica answers as one on the primary does
// (once the replica has replayed the primary's writes), finds the per-user summary installed
// on the primary, and keeps answering when the primary is lost and the replica promoted.

import type { Knex } from "knex";
import request from "supertest";
import {
  insertMedia,
  insertMediaDataset,
  openPostgres,
  randomMediaDataset,
  STANDARD_TOKENS,
} from "../../fixtures";
import { RECHECK_MS } from "../../lib/storage/summary-lookup";
import {
  installMediaUsageSummary,
  uninstallMediaUsageSummary,
} from "../../lib/summary/media-usage-summary";
import { createTestApp, LARGEST_ROOMS, USERS_MEDIA } from "../helpers/app";
import { standardRooms } from "../helpers/rooms";
import { useSynapseReplicas } from "../helpers/standby";

const DATASET = randomMediaDataset({ seed: 1020, users: 40 });
const replicas = useSynapseReplicas((db) => insertMediaDataset(db, DATASET), {
  hot_standby_feedback: "on",
});

const pools: Knex[] = [];
const open = (url: string): Knex => {
  const knex = openPostgres(url);
  pools.push(knex);
  return knex;
};

beforeAll(async () => {
  // Written after the standby was made: these reach it through replication.
  await standardRooms(replicas.current.primary);
  await insertMedia(replicas.current.primary, [
    { media_id: "replicated-1", user_id: "@admin:test", media_length: 70_000, created_ts: 5 },
  ]);
  await replicas.current.pair.caughtUp();
}, 60_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await Promise.all(pools.map((pool) => pool.destroy()));
});

type App = ReturnType<typeof createTestApp>;

/** Answers a request, and says whether its statements read the summary table. */
async function ask(
  app: App,
  knex: Knex,
  path: string,
  query: Record<string, string> = {},
): Promise<{ status: number; body: unknown; fromSummary: boolean }> {
  const statements: string[] = [];
  const listener = (statement: { sql: string }) => statements.push(statement.sql);
  knex.on("query", listener);
  try {
    const res = await request(app)
      .get(path)
      .query(query)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    return {
      status: res.status,
      body: res.body,
      fromSummary: statements.some((sql) => /FROM sas_user_media_usage AS s/.test(sql)),
    };
  } finally {
    knex.off("query", listener);
  }
}

function router(url: string): { app: App; knex: Knex } {
  const knex = open(url);
  return { app: createTestApp({ knex }), knex };
}

const REQUESTS: Array<[string, Record<string, string>]> = [
  [USERS_MEDIA, {}],
  [USERS_MEDIA, { order_by: "media_length", dir: "b", limit: "7" }],
  [USERS_MEDIA, { order_by: "displayname", from: "5", limit: "10" }],
  [USERS_MEDIA, { search_term: "a" }],
  [USERS_MEDIA, { from_ts: "1", until_ts: "1700000000000", order_by: "media_count" }],
  [LARGEST_ROOMS, {}],
  [LARGEST_ROOMS, { estimator: "sample" }],
];

test("the standby answers each request as the primary does", async () => {
  const onPrimary = router(replicas.current.primaryUrl);
  const onStandby = router(replicas.current.standbyUrl);
  for (const [path, query] of REQUESTS) {
    const expected = await ask(onPrimary.app, onPrimary.knex, path, query);
    expect(expected.status).toBe(200);
    if (path === LARGEST_ROOMS) expect(expected.body).toMatchObject({ rooms: { length: 10 } });
    expect({ path, query, ...(await ask(onStandby.app, onStandby.knex, path, query)) }).toEqual({
      path,
      query,
      ...expected,
    });
  }
});

test("a summary installed on the primary is used on the standby: by a new router at once, by a running one at its next check, with the same answers", async () => {
  const running = router(replicas.current.standbyUrl);
  const onPrimary = router(replicas.current.primaryUrl);
  const query = { order_by: "media_length", dir: "b" };
  const expected = await ask(onPrimary.app, onPrimary.knex, USERS_MEDIA, query);
  expect(await ask(running.app, running.knex, USERS_MEDIA, query)).toEqual(expected);

  await installMediaUsageSummary(replicas.current.primary);
  try {
    await replicas.current.pair.caughtUp();
    const fresh = router(replicas.current.standbyUrl);
    expect(await ask(fresh.app, fresh.knex, USERS_MEDIA, query)).toEqual({
      ...expected,
      fromSummary: true,
    });
    // The running router trusts what it learnt for a minute, then looks again.
    expect(await ask(running.app, running.knex, USERS_MEDIA, query)).toEqual(expected);
    const now = Date.now();
    jest.spyOn(Date, "now").mockReturnValue(now + RECHECK_MS + 1);
    expect(await ask(running.app, running.knex, USERS_MEDIA, query)).toEqual({
      ...expected,
      fromSummary: true,
    });
    jest.restoreAllMocks();

    // The primary's triggers keep the summary exact; the standby replays what they write.
    await insertMedia(replicas.current.primary, [
      { media_id: "replicated-2", user_id: "@admin:test", media_length: 90_000, created_ts: 6 },
    ]);
    await replicas.current.pair.caughtUp();
    const after = await ask(onPrimary.app, onPrimary.knex, USERS_MEDIA, query);
    expect(after.body).not.toEqual(expected.body);
    expect(await ask(fresh.app, fresh.knex, USERS_MEDIA, query)).toEqual({
      ...after,
      fromSummary: true,
    });
  } finally {
    jest.restoreAllMocks();
    await uninstallMediaUsageSummary(replicas.current.primary);
    await replicas.current.pair.caughtUp();
  }
});

test("the router on the standby keeps answering when the primary is lost and the standby promoted, and then sees writes made on it", async () => {
  const { app, knex } = router(replicas.current.standbyUrl);
  const before = await ask(app, knex, USERS_MEDIA);
  expect(before.status).toBe(200);

  await replicas.current.pair.primary.stop();
  expect(await ask(app, knex, USERS_MEDIA)).toEqual(before);

  await replicas.current.pair.standby.promote();
  const promoted = await replicas.current.standby.raw<{ rows: Array<{ recovery: boolean }> }>(
    "SELECT pg_is_in_recovery() AS recovery",
  );
  expect(promoted.rows).toEqual([{ recovery: false }]);
  expect(await ask(app, knex, USERS_MEDIA)).toEqual(before);

  await insertMedia(replicas.current.standby, [
    { media_id: "after-promotion", user_id: "@newcomer:test", media_length: 1, created_ts: 7 },
  ]);
  const after = await ask(app, knex, USERS_MEDIA, { search_term: "newcomer" });
  expect(after.status).toBe(200);
  expect(after.body).toEqual({
    users: [{ user_id: "@newcomer:test", displayname: null, media_count: 1, media_length: 1 }],
    total: 1,
  });
});
