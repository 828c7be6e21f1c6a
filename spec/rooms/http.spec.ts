// The rooms endpoint behind the same doors as the other one: Synapse's token and admin rules,
// CORS, on express 5 and 4; then PostgreSQL only (400 on SQLite, main or state), checked
// before any parameter; then its one parameter.

import type { Knex } from "knex";
import request from "supertest";
import { createRoomTables, STANDARD_TOKENS } from "../../fixtures";
import { createTestApp, EXPRESS_MAJORS, LARGEST_ROOMS, USERS_MEDIA } from "../helpers/app";
import { openTestDatabase, useTestDatabase, type TestDatabase } from "../helpers/databases";
import { standardRooms } from "../helpers/rooms";
import { expectMatrixError, SYNAPSE_CORS_HEADERS } from "../helpers/matrix";

const admin = `Bearer ${STANDARD_TOKENS.admin}`;

describe("rooms endpoint on PostgreSQL", () => {
  const db = useTestDatabase("postgres", async (knex) => {
    await standardRooms(knex);
  });

  describe.each(EXPRESS_MAJORS)("mounted in %s", (major) => {
    const app = () => createTestApp({ knex: db.current.knex, express: major });

    test("no token is 401 M_MISSING_TOKEN, with CORS headers", async () => {
      const res = await request(app()).get(LARGEST_ROOMS);
      expectMatrixError(res, 401, "M_MISSING_TOKEN");
      expect(res.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
    });

    test("unknown token is 401 M_UNKNOWN_TOKEN", async () => {
      expectMatrixError(
        await request(app()).get(LARGEST_ROOMS).set("Authorization", "Bearer nope"),
        401,
        "M_UNKNOWN_TOKEN",
      );
    });

    test("expired token is 401 M_UNKNOWN_TOKEN", async () => {
      const res = await request(app())
        .get(LARGEST_ROOMS)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.expiredAdmin}`);
      expectMatrixError(res, 401, "M_UNKNOWN_TOKEN");
    });

    test("non-admin is 403 M_FORBIDDEN, even with a bad parameter", async () => {
      const res = await request(app())
        .get(`${LARGEST_ROOMS}?estimator=bogus`)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.user}`);
      expectMatrixError(res, 403, "M_FORBIDDEN", "You are not a server admin");
    });

    test("an admin gets the rooms, with CORS headers", async () => {
      const res = await request(app())
        .get(LARGEST_ROOMS)
        .set("Origin", "https://admin.example")
        .set("Authorization", admin);
      expect(res.status).toBe(200);
      expect(res.body.rooms).toHaveLength(10);
      expect(res.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
      expect(res.headers["cache-control"]).toBe("no-cache, no-store, must-revalidate");
    });

    test("the access_token query parameter is accepted", async () => {
      const res = await request(app())
        .get(LARGEST_ROOMS)
        .query({ access_token: STANDARD_TOKENS.admin });
      expect(res.status).toBe(200);
    });

    test("an OPTIONS preflight is answered 200 without a token, with CORS headers", async () => {
      const res = await request(app())
        .options(LARGEST_ROOMS)
        .set("Origin", "https://admin.example")
        .set("Access-Control-Request-Method", "GET")
        .set("Access-Control-Request-Headers", "authorization");
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
    });

    test("POST is 405 M_UNRECOGNIZED with an Allow header", async () => {
      const res = await request(app()).post(LARGEST_ROOMS).set("Authorization", admin);
      expectMatrixError(res, 405, "M_UNRECOGNIZED");
      expect(res.headers.allow).toBe("GET, HEAD, OPTIONS");
    });
  });

  const app = () => createTestApp({ knex: db.current.knex });

  test("an unknown estimator is 400 M_INVALID_PARAM, with CORS headers", async () => {
    const res = await request(app())
      .get(`${LARGEST_ROOMS}?estimator=exact`)
      .set("Authorization", admin);
    expectMatrixError(
      res,
      400,
      "M_INVALID_PARAM",
      "Query parameter 'estimator' must be one of ['planner', 'sample']",
    );
    expect(res.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
  });

  test.each(["", "Planner", "planner ", "sample%00"])(
    "estimator=%j is 400 M_INVALID_PARAM",
    async (value) => {
      const res = await request(app())
        .get(`${LARGEST_ROOMS}?estimator=${encodeURIComponent(value)}`)
        .set("Authorization", admin);
      expectMatrixError(res, 400, "M_INVALID_PARAM");
    },
  );

  test("a repeated estimator counts with its first value", async () => {
    const first = await request(app())
      .get(`${LARGEST_ROOMS}?estimator=planner&estimator=bogus`)
      .set("Authorization", admin);
    expect(first.status).toBe(200);
    const bad = await request(app())
      .get(`${LARGEST_ROOMS}?estimator=bogus&estimator=planner`)
      .set("Authorization", admin);
    expectMatrixError(bad, 400, "M_INVALID_PARAM");
  });

  test("unknown parameters are ignored (admin UIs send their shared filters)", async () => {
    const plain = await request(app()).get(LARGEST_ROOMS).set("Authorization", admin);
    const res = await request(app())
      .get(`${LARGEST_ROOMS}?from=0&limit=10&order_by=size&dir=b`)
      .set("Authorization", admin);
    expect(res.status).toBe(200);
    expect(res.text).toBe(plain.text);
  });

  test("HEAD is answered like GET, without a body", async () => {
    const res = await request(app()).head(LARGEST_ROOMS).set("Authorization", admin);
    expect(res.status).toBe(200);
    expect(res.text).toBeUndefined();
  });
});

describe("rooms endpoint needs PostgreSQL for both databases", () => {
  let sqlite: Knex;
  let postgres: TestDatabase;
  beforeAll(async () => {
    // Real tables on both sides: the 400 is not about missing tables.
    sqlite = (await openTestDatabase("sqlite")).knex;
    await createRoomTables(sqlite);
    postgres = await openTestDatabase("postgres");
    await createRoomTables(postgres.knex);
  });
  afterAll(async () => {
    await sqlite.destroy();
    await postgres.close();
  });

  const requiresPostgres = (res: request.Response): void =>
    expectMatrixError(res, 400, "M_UNKNOWN", "Endpoint requires using PostgreSQL");

  test.each(EXPRESS_MAJORS)(
    "SQLite as the main database is 400 M_UNKNOWN, with CORS headers (%s)",
    async (major) => {
      const res = await request(createTestApp({ knex: sqlite, express: major }))
        .get(LARGEST_ROOMS)
        .set("Authorization", admin);
      requiresPostgres(res);
      expect(res.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
    },
  );

  test("SQLite as the state database (PostgreSQL main) is 400 M_UNKNOWN", async () => {
    const res = await request(createTestApp({ knex: postgres.knex, stateKnex: sqlite }))
      .get(LARGEST_ROOMS)
      .set("Authorization", admin);
    requiresPostgres(res);
  });

  test("PostgreSQL as the state database does not rescue a SQLite main database", async () => {
    const res = await request(createTestApp({ knex: sqlite, stateKnex: postgres.knex }))
      .get(LARGEST_ROOMS)
      .set("Authorization", admin);
    requiresPostgres(res);
  });

  test("a state database that only claims to be PostgreSQL (CockroachDB's driver) is 400 M_UNKNOWN", async () => {
    // Never queried: the dialect check comes first. So a stand-in knex is enough here.
    const cockroach = Object.assign(() => undefined, {
      client: { dialect: "postgresql", driverName: "cockroachdb" },
    }) as unknown as Knex;
    const res = await request(createTestApp({ knex: postgres.knex, stateKnex: cockroach }))
      .get(LARGEST_ROOMS)
      .set("Authorization", admin);
    requiresPostgres(res);
  });

  test("the PostgreSQL check comes before the parameters", async () => {
    const res = await request(createTestApp({ knex: sqlite }))
      .get(`${LARGEST_ROOMS}?estimator=bogus`)
      .set("Authorization", admin);
    requiresPostgres(res);
  });

  test("authentication comes before the PostgreSQL check", async () => {
    const app = createTestApp({ knex: sqlite });
    expectMatrixError(await request(app).get(LARGEST_ROOMS), 401, "M_MISSING_TOKEN");
    expectMatrixError(
      await request(app).get(LARGEST_ROOMS).set("Authorization", `Bearer ${STANDARD_TOKENS.user}`),
      403,
      "M_FORBIDDEN",
    );
  });

  test("the users' media endpoint still works on SQLite next to it", async () => {
    const res = await request(createTestApp({ knex: sqlite }))
      .get(USERS_MEDIA)
      .set("Authorization", admin);
    expect(res.status).toBe(200);
  });
});
