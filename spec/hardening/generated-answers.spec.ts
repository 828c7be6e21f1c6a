// Generated data sets and generated valid parameters: the answer must equal the contract
// computed in plain TypeScript (counts, bytes, order with its tie-breaker, window bounds,
// search), and walking next_token must return every matching user exactly once.

import http from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import {
  insertMediaDataset,
  STANDARD_TOKENS,
  type MediaDataset,
  type MediaRow,
  type ProfileRow,
} from "../../fixtures";
import type { UsersMediaResponse } from "../../lib/types";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { expectedUsersMedia, type OracleQuery } from "../helpers/oracle";

const SEED = 1128;
const DATASETS = 120;

// Small alphabets, so that ties, shared substrings and case variants are common.
const nameChar = fc.constantFrom("a", "b", "A", "B", "e", "%", "_", "!", "é", "É", "1");
const localpart = fc.string({ unit: nameChar, minLength: 1, maxLength: 4 });
const displayname = fc.option(
  fc.string({ unit: fc.constantFrom("a", "A", "b", " ", "%", "_", "é", "z"), maxLength: 4 }),
  { nil: null },
);
const timestamp = fc.option(fc.constantFrom(1000, 2000, 2000, 3000, 4000), { nil: null });
const length = fc.option(fc.constantFrom(0, 1, 10, 10, 100, 2 ** 31 - 1), { nil: null });

const dataset: fc.Arbitrary<MediaDataset> = fc
  .uniqueArray(
    fc.record({
      localpart,
      profile: fc.option(displayname, { nil: undefined }),
      media: fc.array(fc.tuple(length, timestamp), { minLength: 0, maxLength: 4 }),
    }),
    { selector: (user) => user.localpart, maxLength: 25 },
  )
  .chain((users) =>
    fc.array(fc.tuple(length, timestamp), { maxLength: 2 }).map((orphans) => {
      const profiles: ProfileRow[] = [];
      const media: MediaRow[] = [];
      let id = 0;
      for (const user of users) {
        const userId = `@${user.localpart}:test`;
        if (user.profile !== undefined) profiles.push({ userId, displayname: user.profile });
        for (const [bytes, created] of user.media) {
          media.push({
            media_id: `g${id++}`,
            user_id: userId,
            media_length: bytes,
            created_ts: created,
          });
        }
      }
      for (const [bytes, created] of orphans) {
        media.push({
          media_id: `g${id++}`,
          user_id: null,
          media_length: bytes,
          created_ts: created,
        });
      }
      return { profiles, media };
    }),
  );

const window = fc.oneof(
  fc.constant({}),
  fc.constantFrom(1000, 2000, 3000).map((from_ts) => ({ from_ts })),
  fc.constantFrom(1000, 2000, 3000).map((until_ts) => ({ until_ts })),
  fc
    .tuple(fc.constantFrom(1, 1000, 2000), fc.constantFrom(1, 1000, 1001, 3000))
    .map(([from_ts, extra]) => ({ from_ts, until_ts: from_ts + extra })),
);

const query: fc.Arbitrary<OracleQuery> = fc
  .record({
    order_by: fc.constantFrom("user_id", "displayname", "media_length", "media_count"),
    dir: fc.constantFrom("f", "b"),
    from: fc.nat(30),
    limit: fc.nat(12),
    search_term: fc.option(
      fc.string({
        unit: fc.constantFrom("a", "B", "%", "_", "!", "é", "1", " "),
        minLength: 1,
        maxLength: 2,
      }),
      { nil: undefined },
    ),
  })
  .chain((base) => window.map((bounds) => ({ ...base, ...bounds })));

describe.each(DATABASE_VARIANTS)("generated answers on $name", (variant) => {
  const db = useTestDatabase(variant);
  let server: http.Server;
  let port: number;
  const agent = new http.Agent({ keepAlive: true });
  beforeAll(async () => {
    server = http.createServer(createTestApp({ knex: db.current.knex }));
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    agent.destroy();
    server.close();
  });

  const fetchPage = (params: OracleQuery): Promise<UsersMediaResponse> => {
    const search = new URLSearchParams(
      Object.entries(params)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]): [string, string] => [key, String(value)]),
    );
    return new Promise((resolve, reject) => {
      http
        .get(
          {
            host: "127.0.0.1",
            port,
            agent,
            path: `${USERS_MEDIA}?${search}`,
            headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` },
          },
          (res) => {
            let body = "";
            res.on("data", (chunk: Buffer) => (body += chunk.toString()));
            res.on("end", () =>
              res.statusCode === 200
                ? resolve(JSON.parse(body) as UsersMediaResponse)
                : reject(new Error(`${res.statusCode} ${body}`)),
            );
          },
        )
        .on("error", reject);
    });
  };

  async function load(data: MediaDataset): Promise<void> {
    await db.current.admin("local_media_repository").del();
    await db.current.admin("profiles").del();
    await insertMediaDataset(db.current.admin, data);
  }

  test(`${DATASETS} generated data sets: answers equal the contract, and next_token walks every user once`, async () => {
    await fc.assert(
      fc.asyncProperty(
        dataset,
        fc.array(query, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 5 }),
        async (data, queries, pageSize) => {
          await load(data);
          for (const params of queries) {
            expect(await fetchPage(params)).toEqual(expectedUsersMedia(data, params));
          }
          // Walk with the first query's filters and order, from the start, `pageSize` at a time.
          const { from: _from, limit: _limit, ...walk } = queries[0] as OracleQuery;
          const all = expectedUsersMedia(data, { ...walk, limit: 10_000 });
          const seen: string[] = [];
          let from: number | undefined = 0;
          while (from !== undefined) {
            const page: UsersMediaResponse = await fetchPage({ ...walk, from, limit: pageSize });
            expect(page.total).toBe(all.total);
            seen.push(...page.users.map((user) => user.user_id));
            from = page.next_token;
          }
          expect(seen).toEqual(all.users.map((user) => user.user_id));
        },
      ),
      { numRuns: DATASETS, seed: SEED },
    );
  }, 300_000);
});
