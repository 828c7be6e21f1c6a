// One request of the largest media as the admin's client makes it, checked for status 200 and
// against the response schema.

import Ajv from "ajv";
import type { Knex } from "knex";
import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import { largestMediaResponseSchema } from "../../lib/storage-responses";
import type { LargestMediaResponse } from "../../lib/storage-types";
import { createTestApp } from "./app";
import { LARGEST_MEDIA } from "./paths";
import type { LargestQuery } from "./storage-oracle";

const validBody = new Ajv({ strict: false }).compile(largestMediaResponseSchema);

export async function largest(knex: Knex, query: LargestQuery): Promise<LargestMediaResponse> {
  const res = await request(createTestApp({ knex }))
    .get(LARGEST_MEDIA)
    .query(query)
    .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
  expect({ query, status: res.status }).toEqual({ query, status: 200 });
  expect(validBody(res.body)).toBe(true);
  return res.body as LargestMediaResponse;
}
