// An SQL-injection corpus in every string parameter and in the token: each value is literal
// text (a search finds exactly the names that contain it), and nothing in the database changes.

import request from "supertest";
import { insertMediaDataset, STANDARD_TOKENS, type MediaDataset } from "../../fixtures";
import { createTestApp, LARGEST_ROOMS, USERS_MEDIA } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { expectedUsersMedia } from "../helpers/oracle";

const CORPUS = [
  "'",
  "''",
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE canary; --",
  '"; DROP TABLE canary; --',
  "1; DELETE FROM canary",
  "') OR ('a'='a",
  ") OR (1=1",
  "' UNION SELECT token, token, 1, 1 FROM access_tokens --",
  "UNION SELECT name FROM users",
  "%",
  "%%",
  "_",
  "%_%",
  "\\",
  "\\'",
  "\\\\",
  "\\%",
  "\\_",
  "!",
  "!%",
  "/*",
  "*/",
  "--",
  ";",
  "$1",
  "$$",
  "$tag$ DROP TABLE canary $tag$",
  "?",
  "??",
  ":name",
  "E'\\x27'",
  "x' AND pg_sleep(5) IS NULL --",
  "' || (SELECT token FROM access_tokens LIMIT 1) || '",
  "＇ OR ＇1＇=＇1",
  "ʼ OR ʼ1ʼ=ʼ1",
  "‘; DROP TABLE canary; --’",
  "＂；",
  "＼",
  "O'Brien",
  "100%",
  "a_b",
  "semi;colon",
];

// Users whose names hold some of the corpus, so literal matching is visible.
const DATASET: MediaDataset = {
  profiles: [
    { userId: "@obrien:test", displayname: "Conan O'Brien" },
    { userId: "@full:test", displayname: "100% sure" },
    { userId: "@under:test", displayname: "a_b c" },
    { userId: "@semi:test", displayname: "semi;colon -- /* */" },
    { userId: "@slash:test", displayname: "back\\slash 'quoted' \"double\"" },
    { userId: "@plain:test", displayname: "Plain Name" },
  ],
  media: ["obrien", "full", "under", "semi", "slash", "plain", "x_y"].map((name, index) => ({
    media_id: `inj${index}`,
    user_id: `@${name}:test`,
    media_length: 10 * (index + 1),
    created_ts: 1000 + index,
  })),
};

describe.each(DATABASE_VARIANTS)("SQL injection corpus on $name", (variant) => {
  const db = useTestDatabase(variant, async (knex) => {
    await insertMediaDataset(knex, DATASET);
    await knex.schema.createTable("canary", (table) => {
      table.integer("id");
    });
    await knex("canary").insert([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  const counts = async () => {
    const knex = db.current.knex;
    const count = async (table: string) =>
      Number((await knex(table).count<{ n: number | string }[]>("* as n"))[0]?.n);
    return {
      canary: await count("canary"),
      media: await count("local_media_repository"),
      profiles: await count("profiles"),
      users: await count("users"),
      tokens: await count("access_tokens"),
    };
  };
  let before: Awaited<ReturnType<typeof counts>>;
  beforeAll(async () => {
    before = await counts();
  });

  const get = (
    path: string,
    query: Record<string, string>,
    token: string = STANDARD_TOKENS.admin,
  ) =>
    request(createTestApp({ knex: db.current.knex }))
      .get(path)
      .query(query)
      .set("Authorization", `Bearer ${token}`);

  test.each(CORPUS)("search_term %j is literal text", async (value) => {
    const res = await get(USERS_MEDIA, { search_term: value });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expectedUsersMedia(DATASET, { search_term: value }));
  });

  test("the corpus finds exactly the names that contain it", async () => {
    expect(
      (await get(USERS_MEDIA, { search_term: "O'Brien" })).body.users.map(
        (u: { user_id: string }) => u.user_id,
      ),
    ).toEqual(["@obrien:test"]);
    expect((await get(USERS_MEDIA, { search_term: "100%" })).body.total).toBe(1);
    expect((await get(USERS_MEDIA, { search_term: "a_b" })).body.total).toBe(1);
    expect((await get(USERS_MEDIA, { search_term: "_" })).body.total).toBe(2);
    expect((await get(USERS_MEDIA, { search_term: "\\" })).body.total).toBe(1);
    expect((await get(USERS_MEDIA, { search_term: "' OR '1'='1" })).body.total).toBe(0);
  });

  test.each(["order_by", "dir"])("every corpus value in %s is a 400 naming it", async (name) => {
    for (const value of CORPUS) {
      const res = await get(USERS_MEDIA, { [name]: value });
      expect({ value, status: res.status, errcode: res.body.errcode }).toEqual({
        value,
        status: 400,
        errcode: "M_INVALID_PARAM",
      });
    }
  });

  test.each(["from", "limit", "from_ts", "until_ts"])(
    "every corpus value in %s is a 400",
    async (name) => {
      for (const value of CORPUS) {
        const res = await get(USERS_MEDIA, { [name]: value });
        expect({ value, status: res.status }).toEqual({ value, status: 400 });
      }
    },
  );

  test("every corpus value in estimator is refused", async () => {
    for (const value of CORPUS) {
      const res = await get(LARGEST_ROOMS, { estimator: value });
      // SQLite answers its 400 before reading parameters; PostgreSQL rejects the value.
      expect({ value, status: res.status }).toEqual({ value, status: 400 });
    }
  });

  test("every corpus value as the access token is an unknown token", async () => {
    for (const value of CORPUS) {
      const viaQuery = await request(createTestApp({ knex: db.current.knex }))
        .get(USERS_MEDIA)
        .query({ access_token: value });
      expect({ value, status: viaQuery.status, errcode: viaQuery.body.errcode }).toEqual({
        value,
        status: 401,
        errcode: "M_UNKNOWN_TOKEN",
      });
      if (!/[\s\u0080-\uffff]/.test(value)) {
        const viaHeader = await get(USERS_MEDIA, {}, value);
        expect({ value, status: viaHeader.status, errcode: viaHeader.body.errcode }).toEqual({
          value,
          status: 401,
          errcode: "M_UNKNOWN_TOKEN",
        });
      }
    }
  });

  // Last in the file, so it runs after the whole corpus: every table still has every row.
  test("after the corpus, the canary and every Synapse table keep all their rows", async () => {
    expect(before.canary).toBe(3);
    expect(await counts()).toEqual(before);
  });
});
