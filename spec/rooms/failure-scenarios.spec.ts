// Where Synapse answers 500, both estimators answer 200 with what the remaining tables hold:
// a missing table, one never analysed, one analysed while empty, room_id NULL throughout, no
// most-common values, tables in another schema than a stale copy, a split state database,
// and a role that may not read a table (logged). `planner` is checked against Synapse's
// arithmetic to the byte; `sample` (which reads whole tables this small) against the exact
// per-room bytes.

import knexFactory, { type Knex } from "knex";
import request from "supertest";
import {
  addRoomSizes,
  exactRoomSizes,
  rankRooms,
  ROOM_TABLE_NAMES,
  type RoomTableName,
} from "../../fixtures";
import { createTestApp, LARGEST_ROOMS, recordingLogger, type LogRecord } from "../helpers/app";
import { openTestDatabase, useTestDatabase, type TestDatabase } from "../helpers/databases";
import {
  anyAdmin,
  createTestRole,
  MAIN_TABLES,
  roomsBody,
  standardRooms,
  synapsePlannerBody,
  type OraclePart,
  type StandardRoomsOptions,
  type TestRole,
} from "../helpers/rooms";

interface Setup {
  main: Knex;
  state?: Knex;
  records: LogRecord[];
}

async function answer(setup: Setup, estimator: "planner" | "sample"): Promise<request.Response> {
  const { logger, records } = recordingLogger();
  const app = createTestApp({
    knex: setup.main,
    ...(setup.state ? { stateKnex: setup.state } : {}),
    authCheck: anyAdmin,
    logger,
  });
  const res = await request(app)
    .get(`${LARGEST_ROOMS}?estimator=${estimator}`)
    .set("Authorization", "Bearer any");
  setup.records.push(...records);
  return res;
}

/** The exact per-room bytes of the given tables, as a response body. */
async function truthBody(
  parts: ReadonlyArray<{ knex: Knex; tables: readonly RoomTableName[] }>,
): Promise<string> {
  const sizes = await Promise.all(
    parts.map((part) => exactRoomSizes(part.knex, { tables: part.tables })),
  );
  return roomsBody(rankRooms(addRoomSizes(...sizes)).slice(0, 10));
}

const without = (...left: RoomTableName[]): RoomTableName[] =>
  ROOM_TABLE_NAMES.filter((table) => !left.includes(table));

/**
 * One database per scenario, `options` describing what is broken; both estimators answer 200
 * with the contribution of `contributing`, and nothing is logged.
 */
function scenario(
  name: string,
  options: StandardRoomsOptions,
  contributing: {
    planner: readonly RoomTableName[];
    sample: readonly RoomTableName[];
  },
  check?: (knex: Knex) => Promise<void>,
): void {
  describe(name, () => {
    const db = useTestDatabase("postgres", async (knex) => {
      await standardRooms(knex, options);
    });

    if (check) test("the scenario is what it says (catalogue check)", () => check(db.current.knex));

    test("planner answers 200 with the other tables' share, as Synapse computes it", async () => {
      const setup: Setup = { main: db.current.knex, records: [] };
      const res = await answer(setup, "planner");
      expect(res.status).toBe(200);
      expect(res.text).toBe(
        await synapsePlannerBody([{ knex: db.current.knex, tables: contributing.planner }]),
      );
      expect(setup.records).toEqual([]);
    });

    test("sample answers 200 with the other tables' exact bytes", async () => {
      const setup: Setup = { main: db.current.knex, records: [] };
      const res = await answer(setup, "sample");
      expect(res.status).toBe(200);
      expect(res.text).toBe(
        await truthBody([{ knex: db.current.knex, tables: contributing.sample }]),
      );
      expect(setup.records).toEqual([]);
    });
  });
}

const statsOf = async (knex: Knex, table: string) =>
  (
    await knex.raw<{ rows: Array<{ null_frac: number; most_common_vals: string | null }> }>(
      "SELECT null_frac, most_common_vals::text FROM pg_stats WHERE tablename = ? AND attname = 'room_id'",
      [table],
    )
  ).rows;

scenario(
  "a missing table",
  { tables: without("event_search") },
  { planner: without("event_search"), sample: without("event_search") },
);

scenario(
  "a table never analysed",
  { analysed: without("events") },
  // The sample reads rows, statistics or not.
  { planner: without("events"), sample: ROOM_TABLE_NAMES },
  async (knex) => expect(await statsOf(knex, "events")).toEqual([]),
);

scenario(
  "a table analysed while empty",
  { seeded: without("event_push_actions") },
  { planner: without("event_push_actions"), sample: ROOM_TABLE_NAMES },
  async (knex) => {
    expect(await statsOf(knex, "event_push_actions")).toEqual([]);
    const analysed = await knex.raw(
      "SELECT reltuples FROM pg_class WHERE oid = 'event_push_actions'::regclass",
    );
    expect(analysed.rows).toEqual([{ reltuples: 0 }]);
  },
);

// Every server created with Synapse 1.62 or later: event_edges.room_id is no longer written.
// `planner` loses the table; `sample` shares it out by the rooms' events.
scenario(
  "room_id NULL on every row of event_edges",
  { eventEdgesRoomId: false },
  { planner: without("event_edges"), sample: ROOM_TABLE_NAMES },
  async (knex) =>
    expect(await statsOf(knex, "event_edges")).toEqual([{ null_frac: 1, most_common_vals: null }]),
);

describe("a table with no most-common values (one row per room)", () => {
  const db = useTestDatabase("postgres", async (knex) => {
    await standardRooms(knex, { seeded: without("stream_ordering_to_exterm"), analysed: [] });
    await knex.raw(
      `INSERT INTO stream_ordering_to_exterm (stream_ordering, room_id, event_id)
       SELECT min(stream_ordering), room_id, min(event_id) FROM events GROUP BY room_id`,
    );
    await knex.raw("ANALYZE");
  });

  test("the table has statistics, but no most-common values", async () => {
    const stats = await statsOf(db.current.knex, "stream_ordering_to_exterm");
    expect(stats).toEqual([{ null_frac: 0, most_common_vals: null }]);
  });

  test("planner answers 200 with the other tables' share", async () => {
    const res = await answer({ main: db.current.knex, records: [] }, "planner");
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      await synapsePlannerBody([{ knex: db.current.knex, tables: ROOM_TABLE_NAMES }]),
    );
    const withoutIt = await synapsePlannerBody([
      { knex: db.current.knex, tables: without("stream_ordering_to_exterm") },
    ]);
    expect(res.text).toBe(withoutIt);
  });

  test("sample counts the table like any other", async () => {
    const res = await answer({ main: db.current.knex, records: [] }, "sample");
    expect(res.status).toBe(200);
    expect(res.text).toBe(await truthBody([{ knex: db.current.knex, tables: ROOM_TABLE_NAMES }]));
  });
});

describe("no room table with statistics", () => {
  const analysedNone = useTestDatabase("postgres", async (knex) => {
    await standardRooms(knex, { analysed: [] });
  });
  const noTables = useTestDatabase("postgres");

  test("planner answers an empty list when nothing was analysed", async () => {
    const res = await answer({ main: analysedNone.current.knex, records: [] }, "planner");
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"rooms":[]}');
  });

  test.each(["planner", "sample"] as const)(
    "%s answers an empty list when no room table exists",
    async (estimator) => {
      const res = await answer({ main: noTables.current.knex, records: [] }, estimator);
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"rooms":[]}');
    },
  );
});

describe("Synapse's tables in another schema, with a stale copy left in public", () => {
  let synapse: Knex;
  const db = useTestDatabase("postgres", async (knex) => {
    await knex.raw("CREATE SCHEMA synapse");
    // The stale copy: other rooms, analysed, in public.
    await standardRooms(knex, { seed: 99 });
  });
  beforeAll(async () => {
    // Synapse's connection: the search_path finds its own schema first.
    synapse = knexFactory({
      client: "pg",
      connection: db.current.url,
      searchPath: ["synapse"],
      pool: { min: 0, max: 2 },
    });
    await standardRooms(synapse, { seed: 7 });
  });
  afterAll(() => synapse.destroy());

  test("planner measures and reads the statistics of the tables the search_path finds", async () => {
    const res = await answer({ main: synapse, records: [] }, "planner");
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      await synapsePlannerBody([{ knex: synapse, schema: "synapse", tables: ROOM_TABLE_NAMES }]),
    );
    const stale = JSON.parse(
      await synapsePlannerBody([{ knex: synapse, schema: "public", tables: ROOM_TABLE_NAMES }]),
    ) as {
      rooms: Array<{ room_id: string }>;
    };
    const listed = (res.body.rooms as Array<{ room_id: string }>).map((room) => room.room_id);
    for (const room of stale.rooms) expect(listed).not.toContain(room.room_id);
  });

  test("sample reads the tables the search_path finds", async () => {
    const res = await answer({ main: synapse, records: [] }, "sample");
    expect(res.status).toBe(200);
    expect(res.text).toBe(await truthBody([{ knex: synapse, tables: ROOM_TABLE_NAMES }]));
  });
});

describe("a state database split off (stateKnex)", () => {
  let state: TestDatabase;
  const main = useTestDatabase("postgres", async (knex) => {
    // A stale state_groups_state left in the main database must not count.
    await standardRooms(knex, { seed: 11 });
  });
  beforeAll(async () => {
    state = await openTestDatabase("postgres", { schema: false });
    await main.current.knex.raw("TRUNCATE state_groups_state");
    await main.current.knex.raw(
      "INSERT INTO state_groups_state (state_group, room_id, type, state_key, event_id) SELECT g, '!stale:test', 't', '', 'e' FROM generate_series(1, 5000) g",
    );
    await main.current.knex.raw("ANALYZE state_groups_state");
    await standardRooms(state.knex, { seed: 11, tables: ["state_groups_state"] });
  });
  afterAll(() => state.close());

  const parts = (): OraclePart[] => [
    { knex: main.current.knex, tables: MAIN_TABLES },
    { knex: state.knex, tables: ["state_groups_state"] },
  ];

  test("planner adds state_groups_state from the state database to the main tables", async () => {
    const res = await answer(
      { main: main.current.knex, state: state.knex, records: [] },
      "planner",
    );
    expect(res.status).toBe(200);
    expect(res.text).toBe(await synapsePlannerBody(parts()));
    expect(res.text).not.toContain("!stale:test");
    // The state database's share is really in there.
    expect(res.text).not.toBe(await synapsePlannerBody(parts().slice(0, 1)));
  });

  test("sample adds state_groups_state from the state database to the main tables", async () => {
    const res = await answer({ main: main.current.knex, state: state.knex, records: [] }, "sample");
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      await truthBody([
        { knex: main.current.knex, tables: MAIN_TABLES },
        { knex: state.knex, tables: ["state_groups_state"] },
      ]),
    );
  });
});

describe("a role that may not read a room table", () => {
  let role: TestRole | undefined;
  let limited: Knex;
  // Declared before the database's own hooks, so it runs while the database is still open.
  afterAll(() => role?.drop(db.current.knex));
  const db = useTestDatabase("postgres", async (knex) => {
    await standardRooms(knex, { eventEdgesRoomId: true });
  });
  beforeAll(async () => {
    role = await createTestRole(db.current.knex);
    const readable = without("event_json");
    await db.current.knex.raw(`GRANT SELECT ON ${readable.map(() => "??").join(", ")} TO ??`, [
      ...readable,
      role.name,
    ]);
    limited = role.connect(db.current.url ?? "");
  });

  test.each(["planner", "sample"] as const)(
    "%s answers 200 without the table, and a warning names it and the missing SELECT",
    async (estimator) => {
      const setup: Setup = { main: limited, records: [] };
      const res = await answer(setup, estimator);
      expect(res.status).toBe(200);
      const expected =
        estimator === "planner"
          ? await synapsePlannerBody([{ knex: db.current.knex, tables: without("event_json") }])
          : await truthBody([{ knex: db.current.knex, tables: without("event_json") }]);
      expect(res.text).toBe(expected);
      expect(setup.records).toEqual([
        {
          level: "warn",
          details: {
            // The request's own fields (issue 11), which link the warning to its request line.
            requestId: expect.any(String),
            method: "GET",
            path: LARGEST_ROOMS,
            query: `estimator=${estimator}`,
            table: "event_json",
            schema: "public",
            role: role?.name,
            reason: "privilege",
            missingPrivilege: "SELECT",
            estimator,
          },
          message: expect.stringMatching(
            /leave out table public\.event_json: role \S+ lacks the SELECT privilege/,
          ),
        },
      ]);
    },
  );

  test("row-level security hiding a table is logged too", async () => {
    await db.current.knex.raw("ALTER TABLE events ENABLE ROW LEVEL SECURITY");
    try {
      const setup: Setup = { main: limited, records: [] };
      const res = await answer(setup, "planner");
      expect(res.status).toBe(200);
      expect(res.text).toBe(
        await synapsePlannerBody([
          { knex: db.current.knex, tables: without("event_json", "events") },
        ]),
      );
      expect(setup.records.map((record) => [record.details.table, record.details.reason])).toEqual([
        ["event_json", "privilege"],
        ["events", "row_security"],
      ]);
    } finally {
      await db.current.knex.raw("ALTER TABLE events DISABLE ROW LEVEL SECURITY");
    }
  });
});
