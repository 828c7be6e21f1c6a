// The deliberate improvements over Synapse, each pinned: deterministic paging, the same JSON on
// SQLite and PostgreSQL (whatever the PostgreSQL database's collation), and both equal to the
// contract computed in plain TypeScript.

import request from "supertest";
import { insertMediaDataset, randomMediaDataset, STANDARD_TOKENS } from "../../fixtures";
import type { UserMediaUsage } from "../../lib/types";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import {
  DATABASE_VARIANTS,
  openTestDatabase,
  type DatabaseVariant,
  type TestDatabase,
} from "../helpers/databases";
import { expectedUsersMedia, type OracleQuery } from "../helpers/oracle";

const DATASET = randomMediaDataset({ seed: 20261128, users: 120, maxMediaPerUser: 5 });

const ORDERS = ["user_id", "displayname", "media_length", "media_count"] as const;
const QUERIES: OracleQuery[] = [
  {},
  ...ORDERS.flatMap((order_by) => [
    { order_by },
    { order_by, dir: "b" as const },
    { order_by, dir: "b" as const, from: 7, limit: 13 },
  ]),
  { from_ts: 2000 },
  { until_ts: 2000 },
  { from_ts: 2000, until_ts: 3000, order_by: "media_length", dir: "b" },
  { search_term: "ALI" },
  { search_term: "%" },
  { search_term: "_" },
  { search_term: "!" },
  { search_term: "émile" },
  { search_term: "ÉMILE" },
  { search_term: "e", order_by: "displayname", limit: 10, from: 5 },
  { search_term: "0", from_ts: 1000, until_ts: 2000 },
  { limit: 0 },
  { from: 119, limit: 5 },
];

const asQuery = (query: OracleQuery): Record<string, string> =>
  Object.fromEntries(Object.entries(query).map(([key, value]) => [key, String(value)]));

describe("same answers everywhere", () => {
  const databases: TestDatabase[] = [];
  beforeAll(async () => {
    for (const [variant, collation] of [
      [DATABASE_VARIANTS[0], undefined],
      [DATABASE_VARIANTS[1], undefined],
      // Not what Synapse allows, but a sidecar may meet it: answers must not change.
      [DATABASE_VARIANTS[1], "C.UTF-8"],
      ...DATABASE_VARIANTS.slice(2).map((other) => [other, undefined] as const),
    ] as const) {
      const database = await openTestDatabase(
        variant as DatabaseVariant,
        collation ? { collation } : {},
      );
      await insertMediaDataset(database.admin, DATASET);
      databases.push(database);
    }
  });
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.close()));
  });

  const fetch = async (database: TestDatabase, query: Record<string, string>) => {
    const res = await request(createTestApp({ knex: database.knex }))
      .get(USERS_MEDIA)
      .query(query)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(res.status).toBe(200);
    return res.text;
  };

  test.each(QUERIES.map((query) => [JSON.stringify(query), query] as const))(
    "SQLite and PostgreSQL give identical JSON, equal to the contract: %s",
    async (_label, query) => {
      const expected = expectedUsersMedia(DATASET, query);
      const texts = await Promise.all(databases.map((database) => fetch(database, asQuery(query))));
      for (const text of texts) {
        expect(JSON.parse(text)).toEqual(expected);
        expect(text).toBe(texts[0]);
      }
    },
  );

  test("search is case-insensitive for ASCII letters only, on both backends", async () => {
    for (const database of databases) {
      const lower = JSON.parse(await fetch(database, { search_term: "émile" }));
      const upper = JSON.parse(await fetch(database, { search_term: "ÉMILE" }));
      const names = (body: { users: UserMediaUsage[] }) =>
        body.users.map((user) => user.displayname);
      expect(names(lower).every((name) => name === "émile")).toBe(true);
      expect(names(upper).every((name) => name === "Émile")).toBe(true);
      expect(lower.total).toBeGreaterThan(0);
      expect(upper.total).toBeGreaterThan(0);
    }
  });

  describe.each(ORDERS)("deterministic paging over ties, order_by=%s", (orderBy) => {
    test.each(["f", "b"])(
      "walking next_token with dir=%s returns every user exactly once",
      async (dir) => {
        for (const database of databases) {
          const seen: string[] = [];
          let from: number | undefined = 0;
          let total: number | undefined;
          while (from !== undefined) {
            const body = JSON.parse(
              await fetch(database, { order_by: orderBy, dir, limit: "7", from: String(from) }),
            );
            total ??= body.total;
            expect(body.total).toBe(total);
            seen.push(...body.users.map((user: UserMediaUsage) => user.user_id));
            from = body.next_token;
          }
          expect(seen).toHaveLength(total ?? -1);
          expect(new Set(seen).size).toBe(seen.length);
          expect(seen).toEqual(
            expectedUsersMedia(DATASET, {
              order_by: orderBy,
              dir: dir as "f" | "b",
              limit: 1000,
            }).users.map((user) => user.user_id),
          );
        }
      },
    );
  });
});
