// The sample estimator ranks rooms by the bytes they really take, also right after a purge
// that no ANALYZE has seen, where the planner statistics still describe the purged room.

import request from "supertest";
import { exactRoomSizes, purgeRoom, rankRooms, roomPlan, type RoomPlan } from "../../fixtures";
import { roomDatabases } from "../../lib/storage/rooms-catalogue";
import { estimateBySample } from "../../lib/storage/rooms-sample";
import { createTestApp, LARGEST_ROOMS, recordingLogger } from "../helpers/app";
import { useTestDatabase } from "../helpers/databases";
import { anyAdmin, standardRooms } from "../helpers/rooms";

// Built so the answer is unambiguous, and so that counting rows (as the planner statistics
// do) gets it wrong: "heavy" has fewer events than "chatty" but much larger ones.
const LEADERS: RoomPlan[] = [
  { roomId: "!heavy:test", events: 3_600, eventBytes: 1_800 },
  { roomId: "!chatty:test", events: 4_000, eventBytes: 250 },
  { roomId: "!medium:test", events: 1_600, eventBytes: 1_100 },
  { roomId: "!fourth:test", events: 700, eventBytes: 600 },
];
const PLAN: RoomPlan[] = [
  ...LEADERS,
  // Thirty small rooms, none above 150 events.
  ...roomPlan({ seed: 8, rooms: 30, events: 1_500, skew: 0.3 }),
];

const topIds = (rooms: Array<{ room_id?: string; roomId?: string }>, count = 3): string[] =>
  rooms.slice(0, count).map((room) => room.room_id ?? room.roomId ?? "");

describe("sample estimator", () => {
  const db = useTestDatabase("postgres", async (knex) => {
    await standardRooms(knex, { plan: PLAN });
  });
  const get = (path: string, options: { roomsEstimator?: "planner" | "sample" } = {}) =>
    request(createTestApp({ knex: db.current.knex, authCheck: anyAdmin, ...options }))
      .get(path)
      .set("Authorization", "Bearer any");
  const sampleSmall = (targetRows: number) =>
    estimateBySample(roomDatabases(db.current.knex, db.current.knex), {
      statementTimeoutMs: 10_000,
      targetRows,
    });

  test("the data is unambiguous: the exact bytes rank heavy, chatty, medium, fourth", async () => {
    const truth = rankRooms(await exactRoomSizes(db.current.knex));
    expect(topIds(truth, 4)).toEqual([
      "!heavy:test",
      "!chatty:test",
      "!medium:test",
      "!fourth:test",
    ]);
    // Each leader at least 20% above the next.
    for (let i = 0; i < 4; i++) {
      expect(Number(truth[i]?.bytes) / Number(truth[i + 1]?.bytes)).toBeGreaterThan(1.2);
    }
  });

  test("?estimator=sample ranks the true top 3 in order, and matches the exact bytes", async () => {
    const res = await get(`${LARGEST_ROOMS}?estimator=sample`);
    expect(res.status).toBe(200);
    expect(topIds(res.body.rooms)).toEqual(["!heavy:test", "!chatty:test", "!medium:test"]);
    // This little data is read whole (under 30,000 rows a table): the estimate is exact.
    const truth = rankRooms(await exactRoomSizes(db.current.knex)).slice(0, 10);
    expect(res.body.rooms).toEqual(
      truth.map((room) => ({ room_id: room.roomId, estimated_size: Number(room.bytes) })),
    );
  });

  test("the planner, counting rows, puts chatty first: what the sample is for", async () => {
    const res = await get(LARGEST_ROOMS);
    expect(topIds(res.body.rooms, 1)).toEqual(["!chatty:test"]);
  });

  test("a real page sample (a third of each table) still ranks the true top 3 in order", async () => {
    const estimate = await sampleSmall(3_000);
    expect(topIds(estimate.rooms)).toEqual(["!heavy:test", "!chatty:test", "!medium:test"]);
    const truth = await exactRoomSizes(db.current.knex);
    for (const room of estimate.rooms.slice(0, 3)) {
      const exact = Number(truth.get(room.room_id));
      expect(Math.abs(room.estimated_size - exact) / exact).toBeLessThan(0.15);
    }
  });

  test("the sample is repeatable: the same pages, the same numbers, request after request", async () => {
    expect(await sampleSmall(3_000)).toEqual(await sampleSmall(3_000));
  });

  test("roomsEstimator: 'sample' makes it the default, and ?estimator=planner still overrides it", async () => {
    const bySample = await get(`${LARGEST_ROOMS}?estimator=sample`);
    expect((await get(LARGEST_ROOMS, { roomsEstimator: "sample" })).text).toBe(bySample.text);
    const byPlanner = await get(LARGEST_ROOMS);
    expect(
      (await get(`${LARGEST_ROOMS}?estimator=planner`, { roomsEstimator: "sample" })).text,
    ).toBe(byPlanner.text);
  });

  describe("after the largest room is purged, without ANALYZE", () => {
    beforeAll(() => purgeRoom(db.current.knex, "!heavy:test"));

    test("sample ranks the new true top 3 in order", async () => {
      const truth = rankRooms(await exactRoomSizes(db.current.knex));
      expect(topIds(truth)).toEqual(["!chatty:test", "!medium:test", "!fourth:test"]);
      const res = await get(`${LARGEST_ROOMS}?estimator=sample`);
      expect(res.status).toBe(200);
      expect(topIds(res.body.rooms)).toEqual(["!chatty:test", "!medium:test", "!fourth:test"]);
      expect(res.text).not.toContain("!heavy:test");
    });

    test("a real page sample also ranks the new true top 3 in order", async () => {
      expect(topIds((await sampleSmall(3_000)).rooms)).toEqual([
        "!chatty:test",
        "!medium:test",
        "!fourth:test",
      ]);
    });

    test("planner still lists the purged room, as Synapse does until the next ANALYZE", async () => {
      const res = await get(LARGEST_ROOMS);
      expect(res.status).toBe(200);
      expect(res.text).toContain("!heavy:test");
    });
  });
});

describe("sample estimator time limit", () => {
  const db = useTestDatabase("postgres", async (knex) => {
    await standardRooms(knex);
  });

  test("a sample that exceeds sampleStatementTimeoutMs is a 500, and the log names the option", async () => {
    // A lock held elsewhere (VACUUM FULL would hold one) stalls the sample until the timeout.
    const blocker = await db.current.knex.transaction();
    await blocker.raw("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
    const { logger, records } = recordingLogger();
    try {
      const started = Date.now();
      const res = await request(
        createTestApp({
          knex: db.current.knex,
          authCheck: anyAdmin,
          logger,
          sampleStatementTimeoutMs: 300,
        }),
      )
        .get(`${LARGEST_ROOMS}?estimator=sample`)
        .set("Authorization", "Bearer any");
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await blocker.rollback();
    }
    expect(records).toHaveLength(1);
    expect(records[0]?.level).toBe("error");
    expect(records[0]?.message).toMatch(/sampleStatementTimeoutMs/);
    expect(records[0]?.details).toMatchObject({
      option: "sampleStatementTimeoutMs",
      timeoutMs: 300,
    });
  });

  test("columns with odd names are quoted, and their bytes counted", async () => {
    const app = createTestApp({ knex: db.current.knex, authCheck: anyAdmin });
    const before = await request(app)
      .get(`${LARGEST_ROOMS}?estimator=sample`)
      .set("Authorization", "Bearer any");
    await db.current.knex.raw(
      `ALTER TABLE events ADD COLUMN "we""ird; col" text DEFAULT repeat('x', 500)`,
    );
    try {
      const after = await request(app)
        .get(`${LARGEST_ROOMS}?estimator=sample`)
        .set("Authorization", "Bearer any");
      expect(after.status).toBe(200);
      // The new column makes events' rows heavier, shifting shares towards the rooms with most events.
      expect(after.text).not.toBe(before.text);
    } finally {
      await db.current.knex.raw(`ALTER TABLE events DROP COLUMN "we""ird; col"`);
    }
  });

  test("the timeout ends with the estimate: the connection's own setting is untouched", async () => {
    const res = await request(
      createTestApp({ knex: db.current.knex, authCheck: anyAdmin, sampleStatementTimeoutMs: 300 }),
    )
      .get(`${LARGEST_ROOMS}?estimator=sample`)
      .set("Authorization", "Bearer any");
    expect(res.status).toBe(200);
    // The pool has at most a few connections; every one of them must be back to no timeout.
    const settings = await Promise.all(
      Array.from({ length: 4 }, () =>
        db.current.knex.raw("SELECT current_setting('statement_timeout') AS value"),
      ),
    );
    for (const setting of settings) expect(setting.rows[0].value).toBe("0");
  });
});
