// Asks the router the users' media endpoint and holds the answer to the contract the oracle
// computes in plain TypeScript from the seeded rows.

import type { Knex } from "knex";
import request from "supertest";
import { STANDARD_TOKENS, type MediaDataset } from "../../fixtures";
import { createTestApp, USERS_MEDIA } from "./app";
import { expectedUsersMedia, type OracleQuery } from "./oracle";

const asQuery = (query: OracleQuery): Record<string, string> =>
  Object.fromEntries(Object.entries(query).map(([key, value]) => [key, String(value)]));

/** The admin's request with `query` is answered 200 with exactly the contract's body. */
export async function expectContractAnswer(
  knex: Knex,
  dataset: MediaDataset,
  query: OracleQuery,
): Promise<void> {
  const res = await request(createTestApp({ knex }))
    .get(USERS_MEDIA)
    .query(asQuery(query))
    .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
  expect({ query, status: res.status }).toEqual({ query, status: 200 });
  expect({ query, body: res.body }).toEqual({ query, body: expectedUsersMedia(dataset, query) });
}
