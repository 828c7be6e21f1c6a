// Every 400 M_INVALID_PARAM case of the users' media endpoint, one test each, on both databases.

import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import {
  NOT_INTEGERS,
  PAGING_INVALID,
  SEARCH_TERM_INVALID,
  TIME_WINDOW_INVALID,
  DIRECTION_INVALID,
  type InvalidCase,
} from "../helpers/invalid-params";

// [what is wrong, raw query string, the message Synapse's wording gives]
const INVALID: InvalidCase[] = [
  ...PAGING_INVALID,
  ...TIME_WINDOW_INVALID,
  ...SEARCH_TERM_INVALID,
  ...DIRECTION_INVALID,
  [
    "unknown order_by",
    "order_by=size",
    "Query parameter 'order_by' must be one of ['media_length', 'media_count', 'user_id', 'displayname']",
  ],
  [
    "order_by in another case",
    "order_by=USER_ID",
    "Query parameter 'order_by' must be one of ['media_length', 'media_count', 'user_id', 'displayname']",
  ],
];

describe.each(DATABASE_VARIANTS)("users' media parameters on $name", (variant) => {
  const db = useTestDatabase(variant);
  const get = (query: string) =>
    request(createTestApp({ knex: db.current.knex }))
      .get(`${USERS_MEDIA}?${query}`)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);

  test.each(INVALID)("%s is 400 M_INVALID_PARAM", async (_name, query, message) => {
    const res = await get(query);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errcode: "M_INVALID_PARAM", error: message });
  });

  describe.each(["from", "limit", "from_ts", "until_ts"])("%s", (name) => {
    test.each(NOT_INTEGERS)(`${name} as %s is 400 M_INVALID_PARAM`, async (_what, value) => {
      const res = await get(`${name}=${value}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        errcode: "M_INVALID_PARAM",
        error: `Query parameter ${name} must be an integer`,
      });
    });
  });

  test("the largest safe integer is accepted", async () => {
    expect((await get(`limit=${Number.MAX_SAFE_INTEGER}`)).status).toBe(200);
  });

  test("leading zeros and -0 are integers", async () => {
    expect((await get("limit=007")).status).toBe(200);
    expect((await get("from=-0")).status).toBe(200);
  });

  test("the first invalid parameter in Synapse's order is the one reported", async () => {
    const res = await get("dir=x&search_term=&limit=-1&order_by=nope");
    expect(res.body.error).toMatch(/^Query parameter 'order_by'/);
    const next = await get("dir=x&search_term=&limit=-1");
    expect(next.body.error).toBe("Query parameter limit must be a positive integer.");
  });

  test("percent-encoded names and values are decoded", async () => {
    const res = await get("%6Cimit=%31");
    expect(res.status).toBe(200);
    expect(res.body.users).toEqual([]);
  });

  test("a search_term of non-ASCII text is accepted", async () => {
    const res = await get(`search_term=${encodeURIComponent("émile")}`);
    expect(res.status).toBe(200);
  });
});
