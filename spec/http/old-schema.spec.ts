// Databases from before Synapse 1.85 have no profiles.full_user_id: profiles are found by the
// localpart of the media's user ID, with no option to set.

import request from "supertest";
import { insertMediaDataset, randomMediaDataset, STANDARD_TOKENS } from "../../fixtures";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { expectedUsersMedia, type OracleQuery } from "../helpers/oracle";

const DATASET = randomMediaDataset({ seed: 185, users: 40 });

describe.each(DATABASE_VARIANTS)("old-schema join on $name", (variant) => {
  const db = useTestDatabase(variant, (knex) => insertMediaDataset(knex, DATASET), {
    schema: { profilesFullUserId: false },
  });

  test.each<OracleQuery>([
    {},
    { order_by: "displayname" },
    { order_by: "displayname", dir: "b" },
    { search_term: "Alice" },
    { search_term: "%" },
  ])("profiles are joined by localpart without full_user_id: %j", async (query) => {
    const res = await request(createTestApp({ knex: db.current.knex }))
      .get(USERS_MEDIA)
      .query(query)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expectedUsersMedia(DATASET, query));
    expect(res.body.users.some((user: { displayname: unknown }) => user.displayname !== null)).toBe(
      true,
    );
  });
});
