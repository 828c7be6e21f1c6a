// Remote media by origin: every order, direction, page and search against the oracle, on every
// database variant; paging that returns each origin once; search that is literal and folds
// ASCII only.

import Ajv from "ajv";
import type { Knex } from "knex";
import request from "supertest";
import { insertStorageDataset, randomStorageDataset, STANDARD_TOKENS } from "../../fixtures";
import { remoteOriginsResponseSchema } from "../../lib/storage-responses";
import type { RemoteOriginsResponse } from "../../lib/storage-types";
import { createTestApp } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { REMOTE_ORIGINS } from "../helpers/paths";
import { expectedRemoteOrigins, type OriginsQuery } from "../helpers/storage-oracle";

const validBody = new Ajv({ strict: false }).compile(remoteOriginsResponseSchema);

async function origins(knex: Knex, query: OriginsQuery): Promise<RemoteOriginsResponse> {
  const res = await request(createTestApp({ knex }))
    .get(REMOTE_ORIGINS)
    .query(query)
    .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
  expect({ query, status: res.status }).toEqual({ query, status: 200 });
  expect(validBody(res.body)).toBe(true);
  return res.body as RemoteOriginsResponse;
}

describe.each(DATABASE_VARIANTS)("remote media by origin on $name", (variant) => {
  const dataset = randomStorageDataset({ seed: 4242, now: Date.now() });
  const db = useTestDatabase(variant, (knex) => insertStorageDataset(knex, dataset));

  const orders = ["origin", "media_count", "media_length"] as const;
  test.each(orders.flatMap((order_by) => (["f", "b"] as const).map((dir) => ({ order_by, dir }))))(
    "order_by=$order_by dir=$dir equals the oracle, page by page",
    async (order) => {
      for (const page of [{}, { limit: 3 }, { from: 2, limit: 4 }, { from: 8, limit: 5 }]) {
        const query = { ...order, ...page };
        expect(await origins(db.current.knex, query)).toEqual(
          expectedRemoteOrigins(dataset, query),
        );
      }
    },
  );

  test("walking next_token returns every origin exactly once, in order", async () => {
    const seen: string[] = [];
    let from: number | undefined = 0;
    while (from !== undefined) {
      const page: RemoteOriginsResponse = await origins(db.current.knex, {
        order_by: "media_count",
        limit: 2,
        from,
      });
      seen.push(...page.origins.map((origin) => origin.origin));
      from = page.next_token;
    }
    expect(seen).toEqual(
      expectedRemoteOrigins(dataset, { order_by: "media_count" }).origins.map((o) => o.origin),
    );
  });

  test.each([
    ["a case-insensitive substring", "EXAMPLE"],
    ["_ as itself, not any character", "a_b"],
    ["% as itself, not any text", "a%b"],
    ["a port", ":8448"],
    ["text no origin holds", "nowhere"],
  ])("search_term matches %s", async (_case, term) => {
    const query = { search_term: term, limit: 50 };
    const answer = await origins(db.current.knex, query);
    expect(answer).toEqual(expectedRemoteOrigins(dataset, query));
    if (term === "a_b") expect(answer.origins.map((o) => o.origin)).toEqual(["a_b.example"]);
  });

  test("a page past the end is empty and still has the total", async () => {
    const all = expectedRemoteOrigins(dataset, {});
    expect(await origins(db.current.knex, { from: 1000 })).toEqual({
      origins: [],
      total: all.total,
    });
  });

  test("media without an origin belong to no origin; thumbnails count for their origin", async () => {
    const answer = await origins(db.current.knex, { limit: 100 });
    expect(answer.origins.every((origin) => origin.origin !== null)).toBe(true);
    // An orphan thumbnail's origin holds no media: it is not listed.
    expect(answer.origins.map((origin) => origin.origin)).not.toContain("orphan.example");
    const matrix = answer.origins.find((origin) => origin.origin === "matrix.org");
    const thumbnails = dataset.remoteThumbnails
      .filter((thumbnail) => thumbnail.media_origin === "matrix.org")
      .reduce((sum, thumbnail) => sum + (thumbnail.thumbnail_length ?? 0), 0);
    expect(matrix?.thumbnail_length).toBe(thumbnails);
  });
});

describe.each(["sqlite", "postgres"] as const)("first and last fetch on %s", (kind) => {
  const db = useTestDatabase(kind, (knex) =>
    insertStorageDataset(knex, {
      local: [],
      localThumbnails: [],
      remoteThumbnails: [],
      remote: [
        { media_origin: "x.example", media_id: "a", media_length: 1, created_ts: 300 },
        { media_origin: "x.example", media_id: "b", media_length: 1, created_ts: null },
        { media_origin: "x.example", media_id: "c", media_length: null, created_ts: 100 },
        { media_origin: "y.example", media_id: "a", media_length: 9, created_ts: null },
      ],
    }),
  );

  test("are the oldest and newest created_ts, null when none is known", async () => {
    expect((await origins(db.current.knex, {})).origins).toEqual([
      {
        origin: "x.example",
        media_count: 3,
        media_length: 2,
        thumbnail_length: 0,
        first_fetched_ts: 100,
        last_fetched_ts: 300,
      },
      {
        origin: "y.example",
        media_count: 1,
        media_length: 9,
        thumbnail_length: 0,
        first_fetched_ts: null,
        last_fetched_ts: null,
      },
    ]);
  });
});
