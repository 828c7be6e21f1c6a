// The estimate only reads: every statement runs in a READ ONLY transaction, and nothing
// analyses a table on the way (ANALYZE takes a lock and changes what the planner does).

import request from "supertest";
import { createTestApp, LARGEST_ROOMS } from "../helpers/app";
import { useTestDatabase } from "../helpers/databases";
import { anyAdmin, standardRooms } from "../helpers/rooms";

describe("the rooms estimate never writes", () => {
  const db = useTestDatabase("postgres", async (knex) => {
    await standardRooms(knex, { analysed: ["events"] });
  });

  test.each(["planner", "sample"] as const)(
    "%s runs only SELECTs inside READ ONLY transactions",
    async (estimator) => {
      const statements: string[] = [];
      const listener = (query: { sql: string }): void => {
        statements.push(query.sql.trim());
      };
      db.current.knex.on("query", listener);
      try {
        const res = await request(createTestApp({ knex: db.current.knex, authCheck: anyAdmin }))
          .get(`${LARGEST_ROOMS}?estimator=${estimator}`)
          .set("Authorization", "Bearer any");
        expect(res.status).toBe(200);
      } finally {
        db.current.knex.off("query", listener);
      }
      // The request's one snapshot: REPEATABLE READ, READ ONLY.
      expect(statements[0]).toMatch(
        /^BEGIN TRANSACTION (ISOLATION LEVEL repeatable read )?READ ONLY;$/,
      );
      expect(statements[statements.length - 1]).toBe("COMMIT;");
      for (const statement of statements.slice(1, -1))
        expect(statement).toMatch(/^(SELECT|WITH)\b/);
    },
  );

  test("tables that were never analysed still have no statistics afterwards", async () => {
    const app = createTestApp({ knex: db.current.knex, authCheck: anyAdmin });
    for (const estimator of ["planner", "sample"]) {
      await request(app)
        .get(`${LARGEST_ROOMS}?estimator=${estimator}`)
        .set("Authorization", "Bearer any");
    }
    const analysed = await db.current.knex.raw<{ rows: Array<{ tablename: string }> }>(
      "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = 'public' ORDER BY tablename",
    );
    expect(analysed.rows).toEqual([{ tablename: "events" }]);
  });
});
