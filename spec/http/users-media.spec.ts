// GET /_synapse/admin/v1/statistics/users/media: the answers, on SQLite and PostgreSQL, through
// express 5 and express 4.

import request from "supertest";
import { insertMediaDataset, STANDARD_TOKENS, type MediaDataset } from "../../fixtures";
import { createTestApp, EXPRESS_MAJORS, USERS_MEDIA } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";

// A small data set whose every answer can be worked out by hand.
const DATASET: MediaDataset = {
  profiles: [
    { userId: "@alice:test", displayname: "Alice Liddell" },
    { userId: "@bob:test", displayname: "bob" },
    { userId: "@dave:test", displayname: null },
    { userId: "@Eve_x:test", displayname: "100% Eve" },
    { userId: "@nomedia:test", displayname: "Has no media" },
  ],
  media: [
    { media_id: "a1", user_id: "@alice:test", media_length: 100, created_ts: 1000 },
    { media_id: "a2", user_id: "@alice:test", media_length: 200, created_ts: 2000 },
    { media_id: "a3", user_id: "@alice:test", media_length: null, created_ts: 3000 },
    { media_id: "b1", user_id: "@bob:test", media_length: 500, created_ts: 2000 },
    { media_id: "c1", user_id: "@carol:test", media_length: 150, created_ts: 3000 },
    { media_id: "c2", user_id: "@carol:test", media_length: 150, created_ts: null },
    { media_id: "d1", user_id: "@dave:test", media_length: 500, created_ts: 4000 },
    { media_id: "e1", user_id: "@Eve_x:test", media_length: 0, created_ts: 1000 },
    { media_id: "n1", user_id: null, media_length: 999, created_ts: 2000 },
  ],
};

const ALICE = {
  user_id: "@alice:test",
  displayname: "Alice Liddell",
  media_count: 3,
  media_length: 300,
};
const BOB = { user_id: "@bob:test", displayname: "bob", media_count: 1, media_length: 500 };
const CAROL = { user_id: "@carol:test", displayname: null, media_count: 2, media_length: 300 };
const DAVE = { user_id: "@dave:test", displayname: null, media_count: 1, media_length: 500 };
const EVE = { user_id: "@Eve_x:test", displayname: "100% Eve", media_count: 1, media_length: 0 };
// Byte order: upper case before lower case.
const BY_USER_ID = [EVE, ALICE, BOB, CAROL, DAVE];

describe.each(DATABASE_VARIANTS)("users' media statistics on $name", (variant) => {
  const db = useTestDatabase(variant, (knex) => insertMediaDataset(knex, DATASET));

  describe.each(EXPRESS_MAJORS)("mounted in %s", (major) => {
    const get = (query: Record<string, string | number> = {}) =>
      request(createTestApp({ knex: db.current.knex, express: major }))
        .get(USERS_MEDIA)
        .query(query)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);

    test("default request lists every uploader by user_id with total", async () => {
      const res = await get();
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.body).toEqual({ users: BY_USER_ID, total: 5 });
    });

    test("limit returns the first users and a next_token", async () => {
      const res = await get({ limit: 2 });
      expect(res.body).toEqual({ users: [EVE, ALICE], total: 5, next_token: 2 });
    });

    test("from skips users", async () => {
      const res = await get({ from: 3 });
      expect(res.body).toEqual({ users: [CAROL, DAVE], total: 5 });
    });

    test("limit and from together page through the list", async () => {
      const res = await get({ from: 1, limit: 2 });
      expect(res.body).toEqual({ users: [ALICE, BOB], total: 5, next_token: 3 });
    });

    test("limit=0 returns no users but the total and a next_token", async () => {
      const res = await get({ limit: 0 });
      expect(res.body).toEqual({ users: [], total: 5, next_token: 0 });
    });

    test("from past the end returns no users and still the total", async () => {
      const res = await get({ from: 50 });
      expect(res.body).toEqual({ users: [], total: 5 });
    });
  });

  const get = (query: Record<string, string | number> = {}) =>
    request(createTestApp({ knex: db.current.knex }))
      .get(USERS_MEDIA)
      .query(query)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);

  describe("next_token boundaries", () => {
    test("limit equal to total: no next_token", async () => {
      expect((await get({ limit: 5 })).body).toEqual({ users: BY_USER_ID, total: 5 });
    });
    test("limit of total + 1: no next_token", async () => {
      expect((await get({ limit: 6 })).body).toEqual({ users: BY_USER_ID, total: 5 });
    });
    test("limit of total - 1: next_token points at the last user", async () => {
      const res = await get({ limit: 4 });
      expect(res.body).toEqual({ users: BY_USER_ID.slice(0, 4), total: 5, next_token: 4 });
      const next = await get({ limit: 4, from: res.body.next_token });
      expect(next.body).toEqual({ users: [DAVE], total: 5 });
    });
  });

  describe("order_by", () => {
    const cases: Array<[string, "f" | "b", unknown[]]> = [
      ["user_id", "f", [EVE, ALICE, BOB, CAROL, DAVE]],
      ["user_id", "b", [DAVE, CAROL, BOB, ALICE, EVE]],
      // Users without a displayname last forwards, first backwards; ties by user_id.
      ["displayname", "f", [EVE, ALICE, BOB, CAROL, DAVE]],
      ["displayname", "b", [DAVE, CAROL, BOB, ALICE, EVE]],
      ["media_length", "f", [EVE, ALICE, CAROL, BOB, DAVE]],
      ["media_length", "b", [DAVE, BOB, CAROL, ALICE, EVE]],
      ["media_count", "f", [EVE, BOB, DAVE, CAROL, ALICE]],
      ["media_count", "b", [ALICE, CAROL, DAVE, BOB, EVE]],
    ];
    test.each(cases)(
      "order_by=%s dir=%s sorts with user_id breaking ties",
      async (orderBy, dir, users) => {
        const res = await get({ order_by: orderBy, dir });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ users, total: 5 });
      },
    );

    test("dir=b is exactly the reverse of dir=f for every order_by", async () => {
      for (const orderBy of ["user_id", "displayname", "media_length", "media_count"]) {
        const forwards = (await get({ order_by: orderBy })).body.users;
        const backwards = (await get({ order_by: orderBy, dir: "b" })).body.users;
        expect(backwards).toEqual([...forwards].reverse());
      }
    });
  });

  describe("time window", () => {
    test("from_ts is an inclusive lower bound on created_ts", async () => {
      const res = await get({ from_ts: 3000 });
      // alice's a3 (3000), carol's c1 (3000), dave's d1 (4000); carol's NULL timestamp is out.
      expect(res.body).toEqual({
        users: [
          { ...ALICE, media_count: 1, media_length: 0 },
          { ...CAROL, media_count: 1, media_length: 150 },
          DAVE,
        ],
        total: 3,
      });
    });

    test("until_ts is an inclusive upper bound on created_ts", async () => {
      const res = await get({ until_ts: 1000 });
      expect(res.body).toEqual({
        users: [EVE, { ...ALICE, media_count: 1, media_length: 100 }],
        total: 2,
      });
    });

    test("from_ts and until_ts together select media inside both bounds", async () => {
      const res = await get({ from_ts: 2000, until_ts: 2000 + 1 });
      expect(res.body).toEqual({
        users: [{ ...ALICE, media_count: 1, media_length: 200 }, BOB],
        total: 2,
      });
    });

    test("from_ts=0 means no lower bound, so media without a timestamp count", async () => {
      const res = await get({ from_ts: 0 });
      expect(res.body).toEqual({ users: BY_USER_ID, total: 5 });
    });

    test("a window with no media gives an empty list and total 0", async () => {
      const res = await get({ from_ts: 10_000 });
      expect(res.body).toEqual({ users: [], total: 0 });
    });
  });

  describe("search_term", () => {
    test("matches a substring of the localpart", async () => {
      expect((await get({ search_term: "aro" })).body).toEqual({ users: [CAROL], total: 1 });
    });

    test("matches a substring of the displayname", async () => {
      expect((await get({ search_term: "Liddell" })).body).toEqual({ users: [ALICE], total: 1 });
    });

    test("is case-insensitive for ASCII letters on localpart and displayname", async () => {
      expect((await get({ search_term: "ALICE" })).body).toEqual({ users: [ALICE], total: 1 });
      expect((await get({ search_term: "eve_X" })).body).toEqual({ users: [EVE], total: 1 });
      expect((await get({ search_term: "BOB" })).body).toEqual({ users: [BOB], total: 1 });
    });

    test("does not match the server name", async () => {
      expect((await get({ search_term: "test" })).body).toEqual({ users: [], total: 0 });
    });

    test("treats % and _ as literal characters", async () => {
      expect((await get({ search_term: "%" })).body).toEqual({ users: [EVE], total: 1 });
      expect((await get({ search_term: "0% E" })).body).toEqual({ users: [EVE], total: 1 });
      expect((await get({ search_term: "_" })).body).toEqual({ users: [EVE], total: 1 });
      expect((await get({ search_term: "a_i" })).body).toEqual({ users: [], total: 0 });
      expect((await get({ search_term: "\\" })).body).toEqual({ users: [], total: 0 });
      expect((await get({ search_term: "!" })).body).toEqual({ users: [], total: 0 });
    });

    test("combines with the time window and paging", async () => {
      const res = await get({ search_term: "e", from_ts: 1000, until_ts: 2000, limit: 1 });
      // e in: alice (a1, a2 in window), Eve_x (e1), dave (no media in window), "Alice Liddell".
      expect(res.body).toEqual({
        users: [EVE],
        total: 2,
        next_token: 1,
      });
    });
  });

  test("a user without a profile has displayname null", async () => {
    const res = await get({ search_term: "carol" });
    expect(res.body.users[0]).toEqual(CAROL);
    expect(res.body.users[0].displayname).toBeNull();
  });

  test("media of no user are not counted", async () => {
    const res = await get();
    expect(res.body.users.some((user: { user_id: unknown }) => user.user_id === null)).toBe(false);
    expect(res.body.total).toBe(5);
  });

  test("media_length of NULL counts as 0 bytes", async () => {
    const res = await get({ from_ts: 3000, until_ts: 3001, search_term: "alice" });
    expect(res.body.users).toEqual([{ ...ALICE, media_count: 1, media_length: 0 }]);
  });

  test("counts, lengths and total are JSON integers, never strings", async () => {
    const res = await get();
    expect(res.text).not.toMatch(/"(media_count|media_length|total)":"/);
    for (const user of res.body.users) {
      expect(Number.isInteger(user.media_count)).toBe(true);
      expect(Number.isInteger(user.media_length)).toBe(true);
    }
    expect(Number.isInteger(res.body.total)).toBe(true);
  });

  test("unknown query parameters are ignored", async () => {
    const res = await get({ _sort: "x", filter: "{}", order: "ASC", perPage: 7, guests: "true" });
    expect(res.body).toEqual({ users: BY_USER_ID, total: 5 });
  });

  test("a repeated parameter takes its first value", async () => {
    const res = await request(createTestApp({ knex: db.current.knex }))
      .get(`${USERS_MEDIA}?limit=1&limit=abc&order_by=media_length&order_by=bogus&dir=b&dir=f`)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ users: [DAVE], total: 5, next_token: 1 });
  });

  test("a huge limit and offset within 2^53 are served, not a 500", async () => {
    const res = await get({ limit: Number.MAX_SAFE_INTEGER, from: 2 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ users: BY_USER_ID.slice(2), total: 5 });
    const far = await get({ from: Number.MAX_SAFE_INTEGER, until_ts: Number.MAX_SAFE_INTEGER });
    expect(far.body).toEqual({ users: [], total: 5 });
  });
});

describe.each(DATABASE_VARIANTS)("no media at all on $name", (variant) => {
  const db = useTestDatabase(variant);
  test("no media at all gives an empty list and total 0", async () => {
    const res = await request(createTestApp({ knex: db.current.knex }))
      .get(USERS_MEDIA)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ users: [], total: 0 });
  });
});
