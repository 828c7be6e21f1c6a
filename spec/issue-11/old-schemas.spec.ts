// Issue 11, item 13: databases from between Synapse upgrades. One upgraded past 1.85 whose
// `populate_full_user_id_profiles` background update has not run (or not finished) has
// `profiles.full_user_id` NULL on those rows: their profiles are found by localpart. And a
// `users` table from before 1.93 has no `locked` column.

import request from "supertest";
import {
  insertMediaDataset,
  localpartOf,
  randomMediaDataset,
  STANDARD_TOKENS,
  unpopulateFullUserIds,
  type SynapseSchemaOptions,
} from "../../fixtures";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import { DATABASE_KINDS, DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { expectMatrixError } from "../helpers/matrix";
import { expectContractAnswer } from "../helpers/contract";
import type { OracleQuery } from "../helpers/oracle";

const DATASET = randomMediaDataset({ seed: 1113, users: 60, maxMediaPerUser: 4 });
const localparts = DATASET.profiles.map((profile) => localpartOf(profile.userId)).sort();
const MIDDLE = localparts[Math.floor(localparts.length / 2)] as string;

// The statement shapes that join profiles: the first page by uploader, a page cut before the
// join, the sort by displayname (both ways), a time window, and searches by displayname.
const QUERIES: OracleQuery[] = [
  { limit: 10 },
  { order_by: "media_length", dir: "b", limit: 10 },
  { order_by: "displayname" },
  { order_by: "displayname", dir: "b", limit: 20, from: 5 },
  { from_ts: 2000, until_ts: 3000, order_by: "displayname" },
  { search_term: "a" },
  { search_term: "Ali", order_by: "displayname", dir: "b" },
];

const STATES: Array<[string, SynapseSchemaOptions["profilesFullUserId"], string | undefined]> = [
  ["the background update not run (no full_user_id, no index)", "unpopulated", undefined],
  ["the background update half done", "unpopulated", MIDDLE],
  ["the index built but rows still NULL", true, MIDDLE],
];

describe.each(DATABASE_VARIANTS)("profiles.full_user_id NULL on $name", (variant) => {
  describe.each(STATES)("with %s", (_state, profilesFullUserId, from) => {
    const db = useTestDatabase(
      variant,
      async (knex) => {
        await insertMediaDataset(knex, DATASET);
        await unpopulateFullUserIds(knex, from);
      },
      { schema: { profilesFullUserId } },
    );

    test.each(QUERIES.map((query) => [JSON.stringify(query), query] as const))(
      "displaynames come from the localpart join: %s",
      async (_label, query) => {
        await expectContractAnswer(db.current.knex, DATASET, query);
      },
    );

    test("some displaynames are found (the data set has them)", async () => {
      const res = await request(createTestApp({ knex: db.current.knex }))
        .get(USERS_MEDIA)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      const named = (res.body.users as Array<{ displayname: string | null }>).filter(
        (user) => user.displayname !== null,
      );
      expect(named.length).toBeGreaterThan(10);
    });
  });
});

describe.each(DATABASE_KINDS)(
  "a users table without locked (before Synapse 1.93) on %s",
  (kind) => {
    const db = useTestDatabase(kind, async () => undefined, { schema: { usersLocked: false } });
    const app = () => createTestApp({ knex: db.current.knex });

    test("the table really has no locked column", async () => {
      expect(await db.current.knex.schema.hasColumn("users", "locked")).toBe(false);
    });

    test.each([
      ["an admin", 200, "", STANDARD_TOKENS.admin],
      ["a user", 403, "M_FORBIDDEN", STANDARD_TOKENS.user],
      ["a deactivated admin", 401, "M_UNKNOWN_TOKEN", STANDARD_TOKENS.deactivatedAdmin],
      ["an expired token", 401, "M_UNKNOWN_TOKEN", STANDARD_TOKENS.expiredAdmin],
      ["a guest admin", 403, "M_GUEST_ACCESS_FORBIDDEN", STANDARD_TOKENS.guestAdmin],
    ] as const)("%s is answered %i %s", async (_case, status, errcode, token) => {
      const res = await request(app()).get(USERS_MEDIA).set("Authorization", `Bearer ${token}`);
      if (errcode === "") expect(res.status).toBe(status);
      else expectMatrixError(res, status, errcode);
    });
  },
);
