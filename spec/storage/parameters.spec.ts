// Every 400 M_INVALID_PARAM case of the storage endpoints, one test each, on both databases:
// the same rules and wording as Synapse's own parameters, and the rules of their own.

import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import { createTestApp } from "../helpers/app";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/databases";
import {
  NOT_INTEGERS,
  PAGING_INVALID,
  SEARCH_TERM_INVALID,
  TIME_WINDOW_INVALID,
  DIRECTION_INVALID,
  type InvalidCase,
} from "../helpers/invalid-params";
import { LARGEST_MEDIA, REMOTE_ORIGINS, STORAGE_OVERVIEW } from "../helpers/paths";

const ORIGINS_INVALID: InvalidCase[] = [
  ...PAGING_INVALID,
  ...SEARCH_TERM_INVALID,
  ...DIRECTION_INVALID,
  [
    "unknown order_by",
    "order_by=user_id",
    "Query parameter 'order_by' must be one of ['origin', 'media_count', 'media_length']",
  ],
  [
    "order_by in another case",
    "order_by=ORIGIN",
    "Query parameter 'order_by' must be one of ['origin', 'media_count', 'media_length']",
  ],
];

const LARGEST_INVALID: InvalidCase[] = [
  ...PAGING_INVALID,
  ...TIME_WINDOW_INVALID,
  ["unknown source", "source=cache", "Query parameter 'source' must be one of ['local', 'remote']"],
  ["empty source", "source=", "Query parameter 'source' must be one of ['local', 'remote']"],
  ["empty user_id", "user_id=", "Query parameter user_id cannot be an empty string."],
  [
    "user_id with NUL",
    "user_id=%40a%00%3Atest",
    "Query parameter user_id must not contain a NUL character.",
  ],
  [
    "user_id too long",
    `user_id=${"u".repeat(1001)}`,
    "Query parameter user_id must be at most 1000 characters",
  ],
  ["empty origin", "source=remote&origin=", "Query parameter origin cannot be an empty string."],
  [
    "origin with NUL",
    "source=remote&origin=a%00",
    "Query parameter origin must not contain a NUL character.",
  ],
  [
    "user_id with source=remote",
    "source=remote&user_id=%40a%3Atest",
    "Query parameter user_id filters local media: it cannot be used with source=remote.",
  ],
  [
    "origin of local media",
    "origin=matrix.org",
    "Query parameter origin filters remote media: it needs source=remote.",
  ],
  [
    "origin with source=local",
    "source=local&origin=matrix.org",
    "Query parameter origin filters remote media: it needs source=remote.",
  ],
];

describe.each(DATABASE_KINDS)("storage parameters on %s", (kind) => {
  const db = useTestDatabase(kind);
  const get = (path: string, query: string) =>
    request(createTestApp({ knex: db.current.knex }))
      .get(`${path}?${query}`)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);

  test.each(ORIGINS_INVALID)(
    "origins: %s is 400 M_INVALID_PARAM",
    async (_name, query, message) => {
      const res = await get(REMOTE_ORIGINS, query);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errcode: "M_INVALID_PARAM", error: message });
    },
  );

  test.each(LARGEST_INVALID)(
    "largest media: %s is 400 M_INVALID_PARAM",
    async (_name, query, message) => {
      const res = await get(LARGEST_MEDIA, query);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errcode: "M_INVALID_PARAM", error: message });
    },
  );

  describe.each([
    [REMOTE_ORIGINS, ["from", "limit"]],
    [LARGEST_MEDIA, ["from", "limit", "from_ts", "until_ts"]],
  ] as const)("integers of %s", (path, names) => {
    test.each(names.flatMap((name) => NOT_INTEGERS.map(([what, value]) => [name, what, value])))(
      "%s as %s is 400 M_INVALID_PARAM",
      async (name, _what, value) => {
        const res = await get(path, `${name}=${value}`);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          errcode: "M_INVALID_PARAM",
          error: `Query parameter ${name} must be an integer`,
        });
      },
    );
  });

  test("the first broken rule in the schema's order is the one reported", async () => {
    const res = await get(REMOTE_ORIGINS, "dir=x&search_term=&limit=-1&order_by=nope");
    expect(res.body.error).toMatch(/^Query parameter 'order_by'/);
    // A filter of the other source is refused first: it is the request's shape that is wrong.
    const largest = await get(LARGEST_MEDIA, "source=remote&user_id=%40a%3Atest&limit=x");
    expect(largest.body.error).toMatch(/^Query parameter user_id filters local media/);
  });

  test.each([REMOTE_ORIGINS, LARGEST_MEDIA, STORAGE_OVERVIEW])(
    "unknown parameters are ignored, and a repeated one counts by its first value: %s",
    async (path) => {
      const res = await get(path, "per_page=-1&orderBy=bogus&limit=1&limit=x&estimator=nope");
      expect(res.status).toBe(200);
    },
  );

  test("the largest safe integer, leading zeros and -0 are integers", async () => {
    expect((await get(LARGEST_MEDIA, `limit=${Number.MAX_SAFE_INTEGER}`)).status).toBe(200);
    expect((await get(REMOTE_ORIGINS, "limit=007&from=-0")).status).toBe(200);
  });

  test("a user ID, origin and search of any text but NUL are accepted", async () => {
    expect((await get(LARGEST_MEDIA, `user_id=${encodeURIComponent("@émile:tést")}`)).status).toBe(
      200,
    );
    expect(
      (await get(LARGEST_MEDIA, `source=remote&origin=${encodeURIComponent("[::1]:8448")}`)).status,
    ).toBe(200);
    expect((await get(REMOTE_ORIGINS, `search_term=${encodeURIComponent("%_!")}`)).status).toBe(
      200,
    );
  });
});
