// Every 400 M_INVALID_PARAM case of the users' media endpoint, one test each, on both databases.

import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";

// [what is wrong, raw query string, the message Synapse's wording gives]
const INVALID: Array<[string, string, string]> = [
  ["from not an integer", "from=abc", "Query parameter from must be an integer"],
  ["from negative", "from=-5", "Query parameter from must be a positive integer."],
  ["limit not an integer", "limit=ten", "Query parameter limit must be an integer"],
  ["limit negative", "limit=-1", "Query parameter limit must be a positive integer."],
  ["from_ts not an integer", "from_ts=yesterday", "Query parameter from_ts must be an integer"],
  ["from_ts negative", "from_ts=-1", "Query parameter from_ts must be a positive integer."],
  ["until_ts not an integer", "until_ts=now", "Query parameter until_ts must be an integer"],
  ["until_ts negative", "until_ts=-10", "Query parameter until_ts must be a positive integer."],
  [
    "until_ts equal to from_ts",
    "from_ts=500&until_ts=500",
    "Query parameter until_ts must be greater than from_ts.",
  ],
  [
    "until_ts before from_ts",
    "from_ts=500&until_ts=499",
    "Query parameter until_ts must be greater than from_ts.",
  ],
  [
    "until_ts=0 (from_ts defaults to 0)",
    "until_ts=0",
    "Query parameter until_ts must be greater than from_ts.",
  ],
  ["empty search_term", "search_term=", "Query parameter search_term cannot be an empty string."],
  [
    "search_term with NUL",
    "search_term=a%00b",
    "Query parameter search_term must not contain a NUL character.",
  ],
  [
    "search_term too long",
    `search_term=${"x".repeat(1001)}`,
    "Query parameter search_term must be at most 1000 characters",
  ],
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
  ["unknown dir", "dir=x", "Query parameter 'dir' must be one of ['f', 'b']"],
  ["dir spelled out", "dir=forwards", "Query parameter 'dir' must be one of ['f', 'b']"],
  ["empty dir", "dir=", "Query parameter 'dir' must be one of ['f', 'b']"],
  ["parameter without a value", "limit", "Query parameter limit must be an integer"],
  [
    "search_term not UTF-8",
    "search_term=%C3%28",
    "Query parameter search_term must be a valid UTF-8 string",
  ],
];

// Integers are an optional minus and ASCII digits; everything here is something else.
const NOT_INTEGERS: Array<[string, string]> = [
  ["hexadecimal", "0x10"],
  ["exponent", "1e2"],
  ["fraction", "5.0"],
  ["a space", "%20"],
  ["empty", ""],
  ["a plus sign", "%2B5"],
  ["a plus as space", "+5"],
  ["a leading space", "%205"],
  ["a trailing space", "5%20"],
  ["underscores", "1_000"],
  ["non-ASCII digits", "%D9%A5"],
  ["full-width digits", "%EF%BC%95"],
  ["beyond 2^53", "9007199254740993"],
  ["2^53", "9007199254740992"],
  ["far beyond 2^64", "99999999999999999999999999"],
  ["Infinity", "Infinity"],
  ["NaN", "NaN"],
  ["a lone minus", "-"],
  ["a newline", "5%0A"],
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
