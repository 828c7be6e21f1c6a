// The users' media endpoint picks its statement by request shape and by the indexes it finds.
// Every shape, with and without Synapse's index and with the optional covering index, must give
// the answer the contract computes in plain TypeScript.

import type { Knex } from "knex";
import { insertMediaDataset, randomMediaDataset, type MediaDataset } from "../../fixtures";
import { expectContractAnswer } from "../helpers/contract";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import type { OracleQuery } from "../helpers/oracle";

const DATASET = randomMediaDataset({ seed: 5150, users: 150, maxMediaPerUser: 4 });

// Each line reaches a different statement: the skip scan by uploader (first pages, both
// directions, deep), the full aggregate (pages over 1000, windows, other orders), and the
// search through the list of matching users (with and without a window).
const QUERIES: OracleQuery[] = [
  { limit: 10 },
  { limit: 10, dir: "b" },
  { limit: 10, from: 145 },
  { limit: 10, from: 500 },
  { limit: 1001 },
  { limit: 1001, dir: "b", from: 3 },
  { order_by: "media_length", dir: "b", limit: 10 },
  { order_by: "displayname", limit: 10, from: 20 },
  { from_ts: 2000, until_ts: 3000, limit: 10 },
  { search_term: "a", limit: 10 },
  { search_term: "ali", order_by: "media_count", dir: "b" },
  { search_term: "e", from_ts: 2000, limit: 5, from: 2 },
  { search_term: "nobody-has-this" },
];

const INDEX_VARIANTS: Array<[string, (knex: Knex) => Promise<void>]> = [
  ["Synapse's indexes", async () => undefined],
  [
    "no users_have_local_media index",
    (knex) => knex.raw("DROP INDEX users_have_local_media").then(() => undefined),
  ],
  [
    "the optional covering index",
    (knex) =>
      knex
        .raw(
          "CREATE INDEX media_covering ON local_media_repository (user_id, created_ts, media_length)",
        )
        .then(() => undefined),
  ],
];

describe.each(DATABASE_VARIANTS)("statement shapes on $name", (variant) => {
  describe.each(INDEX_VARIANTS)("with %s", (_variant, prepare) => {
    const db = useTestDatabase(variant, async (knex) => {
      await insertMediaDataset(knex, DATASET);
      await prepare(knex);
    });
    test.each(QUERIES.map((query) => [JSON.stringify(query), query] as const))(
      "every statement shape gives the contract's answer: %s",
      async (_label, query) => {
        await expectContractAnswer(db.current.knex, DATASET, query);
      },
    );
  });

  describe("a search matching more users than are looked up one by one", () => {
    // Over 2,000 matching users: the search is applied per media row in one scan instead.
    const many: MediaDataset = {
      profiles: [],
      media: Array.from({ length: 2100 }, (_, index) => ({
        media_id: `z${index}`,
        user_id: `@zz${index.toString().padStart(4, "0")}:test`,
        media_length: index % 7,
        created_ts: 1000 + (index % 3),
      })),
    };
    const db = useTestDatabase(variant, (knex) => insertMediaDataset(knex, many));

    test.each<OracleQuery>([
      { search_term: "zz", limit: 5 },
      { search_term: "ZZ", order_by: "media_length", dir: "b", from: 2000 },
      { search_term: "z1", from_ts: 1001 },
    ])("a broad search gives the contract's answer: %j", async (query) => {
      await expectContractAnswer(db.current.knex, many, query);
    });
  });
});
