import request from "supertest";
import { STANDARD_TOKENS, insertMedia } from "../../fixtures";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/databases";

describe.each(DATABASE_KINDS)("smoke on %s", (kind) => {
  const db = useTestDatabase(kind, async (knex) => {
    await insertMedia(knex, [{ media_id: "a", user_id: "@a:test", media_length: 10, created_ts: 5 }]);
  });
  it("answers", async () => {
    const app = createTestApp({ knex: db.current.knex });
    const res = await request(app).get(USERS_MEDIA).set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(res.body).toEqual({ users: [{ user_id: "@a:test", displayname: null, media_count: 1, media_length: 10 }], total: 1 });
  });
});
