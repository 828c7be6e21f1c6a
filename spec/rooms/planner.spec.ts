// The planner estimate is Synapse's: the same JSON, to the byte, as Synapse's arithmetic on
// the same statistics, computed independently here.

import request from "supertest";
import { seedRooms, createRoomTables, type RoomPlan } from "../../fixtures";
import { createTestApp, LARGEST_ROOMS } from "../helpers/app";
import { useTestDatabase } from "../helpers/databases";
import {
  anyAdmin,
  MAIN_TABLES,
  standardRooms,
  synapsePlannerBody,
  truncatedProduct,
} from "../helpers/rooms";

const get = (app: ReturnType<typeof createTestApp>, path = LARGEST_ROOMS) =>
  request(app).get(path).set("Authorization", "Bearer any");

describe("planner estimate on heavy-tailed rooms", () => {
  // event_edges keeps its room_id here (a server from before Synapse 1.62), so all seven
  // tables contribute, as they do for Synapse.
  const db = useTestDatabase("postgres", async (knex) => {
    await standardRooms(knex, { eventEdgesRoomId: true });
  });
  const app = () => createTestApp({ knex: db.current.knex, authCheck: anyAdmin });

  test("the body is Synapse's arithmetic to the byte", async () => {
    const expected = await synapsePlannerBody([
      { knex: db.current.knex, tables: [...MAIN_TABLES, "state_groups_state"] },
    ]);
    const res = await get(app());
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.text).toBe(expected);
    expect(res.body.rooms).toHaveLength(10);
  });

  test("planner is the default, and ?estimator=planner asks for it explicitly", async () => {
    const byDefault = await get(app());
    const explicit = await get(app(), `${LARGEST_ROOMS}?estimator=planner`);
    expect(explicit.status).toBe(200);
    expect(explicit.text).toBe(byDefault.text);
  });

  test("sizes are JSON integers, largest first", async () => {
    const res = await get(app());
    const sizes = (res.body.rooms as Array<{ estimated_size: unknown }>).map(
      (room) => room.estimated_size,
    );
    for (const size of sizes) expect(Number.isSafeInteger(size)).toBe(true);
    expect([...(sizes as number[])].sort((a, b) => b - a)).toEqual(sizes);
  });
});

describe("planner ties", () => {
  // Twelve rooms of exactly the same size: every room_id frequency is the same, so the top
  // ten is decided by room_id alone, in byte order (upper case before lower, '!' first).
  const ids = [
    "!b:t",
    "!B:t",
    "!a:t",
    "!A:t",
    "!_:t",
    "!z:t",
    "!Z:t",
    "!0:t",
    "!9:t",
    "!~:t",
    "!m:t",
    "!M:t",
  ];
  const plan: RoomPlan[] = ids.map((roomId) => ({ roomId, events: 500, eventBytes: 400 }));
  const db = useTestDatabase("postgres", async (knex) => {
    await createRoomTables(knex, { tables: ["events"], autovacuum: false });
    await seedRooms(knex, { seed: 5, rooms: plan, tables: ["events"] });
    await knex.raw("ANALYZE events");
  });

  test("ties are broken by room_id in byte order, also at the cut after ten", async () => {
    const res = await get(createTestApp({ knex: db.current.knex, authCheck: anyAdmin }));
    expect(res.status).toBe(200);
    const sizes = new Set(
      (res.body.rooms as Array<{ estimated_size: number }>).map((room) => room.estimated_size),
    );
    expect(sizes.size).toBe(1);
    expect(res.body.rooms.map((room: { room_id: string }) => room.room_id)).toEqual([
      "!0:t",
      "!9:t",
      "!A:t",
      "!B:t",
      "!M:t",
      "!Z:t",
      "!_:t",
      "!a:t",
      "!b:t",
      "!m:t",
    ]);
    expect(res.text).toBe(
      await synapsePlannerBody([{ knex: db.current.knex, tables: ["events"] }]),
    );
  });
});

describe("the oracle's decimal arithmetic", () => {
  test.each([
    ["0.5", 11n, 5n],
    ["0.14285715", 16_687_104n, 2_383_872n],
    ["1.2345e-05", 100_000_000n, 1_234n],
    ["1e-05", 99_999n, 0n],
    ["1", 7n, 7n],
  ])("%s × %d truncates to %d", (decimal, multiplier, expected) => {
    expect(truncatedProduct(decimal, multiplier)).toBe(expected);
  });
});
