// Issue 11, item 2: guests are refused before anything else, as Synapse refuses them: 403
// M_GUEST_ACCESS_FORBIDDEN, whether or not the guest is flagged admin.

import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import { buildOpenApiDocument } from "../../lib";
import type { Requester } from "../../lib";
import { createTestApp, EXPRESS_MAJORS, recordingLogger, USERS_MEDIA } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { expectMatrixError } from "../helpers/matrix";

describe.each(DATABASE_VARIANTS)("guests on $name", (variant) => {
  const db = useTestDatabase(variant);

  describe.each(EXPRESS_MAJORS)("mounted in %s", (major) => {
    const app = () => createTestApp({ knex: db.current.knex, express: major });

    test("a guest flagged admin is 403 M_GUEST_ACCESS_FORBIDDEN", async () => {
      const res = await request(app())
        .get(USERS_MEDIA)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.guestAdmin}`);
      expectMatrixError(res, 403, "M_GUEST_ACCESS_FORBIDDEN", "Guest access not allowed");
    });

    test("a guest that is not admin is 403 M_GUEST_ACCESS_FORBIDDEN, not M_FORBIDDEN", async () => {
      const res = await request(app())
        .get(USERS_MEDIA)
        .query({ access_token: STANDARD_TOKENS.guest });
      expectMatrixError(res, 403, "M_GUEST_ACCESS_FORBIDDEN", "Guest access not allowed");
    });
  });

  test("the guest check wins over a bad parameter, as every auth failure does", async () => {
    const res = await request(createTestApp({ knex: db.current.knex }))
      .get(`${USERS_MEDIA}?limit=nope`)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.guestAdmin}`);
    expectMatrixError(res, 403, "M_GUEST_ACCESS_FORBIDDEN");
  });
});

describe("the guest flag in the authCheck contract", () => {
  const db = useTestDatabase("sqlite");
  const appWith = (requester: unknown) => {
    const { logger, records } = recordingLogger();
    const app = createTestApp({
      knex: db.current.knex,
      logger,
      authCheck: () => requester as Requester,
    });
    return { app, records };
  };

  test.each([
    [{ userId: "@g:test", admin: true, guest: true }],
    [{ userId: "@g:test", admin: false, guest: true }],
  ])("%j is 403 M_GUEST_ACCESS_FORBIDDEN", async (requester) => {
    const res = await request(appWith(requester).app)
      .get(USERS_MEDIA)
      .set("Authorization", "Bearer host-token");
    expectMatrixError(res, 403, "M_GUEST_ACCESS_FORBIDDEN");
  });

  test("guest: false, or no guest flag at all, leaves the admin check to decide", async () => {
    for (const [requester, status] of [
      [{ userId: "@a:test", admin: true, guest: false }, 200],
      [{ userId: "@a:test", admin: true }, 200],
      [{ userId: "@a:test", admin: false, guest: false }, 403],
    ] as const) {
      const res = await request(appWith(requester).app)
        .get(USERS_MEDIA)
        .set("Authorization", "Bearer host-token");
      expect(res.status).toBe(status);
    }
  });

  test("a guest flag that is not a boolean is the host's mistake: 500, logged", async () => {
    const { app, records } = appWith({ userId: "@g:test", admin: true, guest: "no" });
    const res = await request(app).get(USERS_MEDIA).set("Authorization", "Bearer host-token");
    expectMatrixError(res, 500, "M_UNKNOWN");
    expect(records[0]?.message).toMatch(/guest\?: boolean/);
  });
});

test("the OpenAPI document names M_GUEST_ACCESS_FORBIDDEN under 403", () => {
  const document = buildOpenApiDocument() as {
    paths: Record<string, { get: { responses: Record<string, { description: string }> } }>;
  };
  for (const path of Object.values(document.paths)) {
    expect(path.get.responses["403"]?.description).toContain("M_GUEST_ACCESS_FORBIDDEN");
  }
});
