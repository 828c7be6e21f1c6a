// Who may call the endpoint: Synapse's token rules, the admin check, and what happens when
// the host's authCheck misbehaves. On both databases and both express majors.

import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import { createTestApp, EXPRESS_MAJORS, recordingLogger, USERS_MEDIA } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { TEST_SECRETS } from "../helpers/test-run";
import { rawRequest } from "../helpers/raw-http";
import { expectMatrixError } from "../helpers/matrix";

describe.each(DATABASE_VARIANTS)("authentication on $name", (variant) => {
  const db = useTestDatabase(variant);

  describe.each(EXPRESS_MAJORS)("mounted in %s", (major) => {
    const app = () => createTestApp({ knex: db.current.knex, express: major });

    test("no token is 401 M_MISSING_TOKEN", async () => {
      expectMatrixError(await request(app()).get(USERS_MEDIA), 401, "M_MISSING_TOKEN");
    });

    test("unknown token is 401 M_UNKNOWN_TOKEN", async () => {
      const res = await request(app()).get(USERS_MEDIA).set("Authorization", "Bearer nope");
      expectMatrixError(res, 401, "M_UNKNOWN_TOKEN");
    });

    test("non-admin is 403 M_FORBIDDEN", async () => {
      const res = await request(app())
        .get(USERS_MEDIA)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.user}`);
      expectMatrixError(res, 403, "M_FORBIDDEN");
      expect(res.body.error).toBe("You are not a server admin");
    });

    test("token in the Authorization header is accepted", async () => {
      const res = await request(app())
        .get(USERS_MEDIA)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(res.status).toBe(200);
    });

    test("token in the access_token query parameter is accepted", async () => {
      const res = await request(app())
        .get(USERS_MEDIA)
        .query({ access_token: STANDARD_TOKENS.admin });
      expect(res.status).toBe(200);
    });
  });

  const app = () => createTestApp({ knex: db.current.knex });

  test.each([
    ["expired token", STANDARD_TOKENS.expiredAdmin, 401, "M_UNKNOWN_TOKEN"],
    ["deactivated user", STANDARD_TOKENS.deactivatedAdmin, 401, "M_UNKNOWN_TOKEN"],
    ["locked user", STANDARD_TOKENS.lockedAdmin, 401, "M_UNKNOWN_TOKEN"],
    // As in Synapse: an admin's login-as-user token has that user's rights, here none.
    [
      "an admin's login-as-user token for a non-admin",
      STANDARD_TOKENS.adminActingAsUser,
      403,
      "M_FORBIDDEN",
    ],
  ] as const)("%s is %i %s", async (_case, token, status, errcode) => {
    const res = await request(app()).get(USERS_MEDIA).set("Authorization", `Bearer ${token}`);
    expectMatrixError(res, status, errcode);
  });

  test("token in header and in query at once is 401 M_MISSING_TOKEN", async () => {
    const res = await request(app())
      .get(USERS_MEDIA)
      .query({ access_token: STANDARD_TOKENS.admin })
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expectMatrixError(res, 401, "M_MISSING_TOKEN");
  });

  test("several Authorization headers are 401 M_MISSING_TOKEN", async () => {
    // HTTP clients merge repeated headers; the raw request keeps them apart.
    const res = await rawRequest(
      app(),
      `GET ${USERS_MEDIA} HTTP/1.1\r\nAuthorization: Bearer ${STANDARD_TOKENS.admin}\r\nAuthorization: Bearer ${STANDARD_TOKENS.admin}`,
    );
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({
      errcode: "M_MISSING_TOKEN",
      error: "Too many Authorization headers.",
    });
  });

  test.each([
    ["lower-case scheme", `bearer ${STANDARD_TOKENS.admin}`],
    ["another scheme", `Basic ${STANDARD_TOKENS.admin}`],
    ["two spaces", `Bearer  ${STANDARD_TOKENS.admin}`],
    ["a trailing word", `Bearer ${STANDARD_TOKENS.admin} extra`],
    ["the scheme alone", "Bearer"],
    // The HTTP parser trims the trailing space, as Twisted does: the scheme alone again.
    ["the scheme and a space", "Bearer "],
  ])("malformed Authorization header (%s) is 401 M_MISSING_TOKEN", async (_name, header) => {
    const res = await request(app()).get(USERS_MEDIA).set("Authorization", header);
    expectMatrixError(res, 401, "M_MISSING_TOKEN");
  });

  test("an empty access_token parameter is 401 M_UNKNOWN_TOKEN without asking authCheck", async () => {
    const authCheck = jest.fn(async () => ({ userId: "@x:test", admin: true }));
    const server = createTestApp({ knex: db.current.knex, authCheck });
    expectMatrixError(
      await request(server).get(`${USERS_MEDIA}?access_token=`),
      401,
      "M_UNKNOWN_TOKEN",
    );
    expect(authCheck).not.toHaveBeenCalled();
  });

  test("a token holding a NUL is 401 M_UNKNOWN_TOKEN, not a database error", async () => {
    // Found by the generated-requests suite: PostgreSQL rejects NUL in a text parameter.
    expectMatrixError(
      await request(app()).get(`${USERS_MEDIA}?access_token=%00`),
      401,
      "M_UNKNOWN_TOKEN",
    );
    expectMatrixError(
      await request(app()).get(`${USERS_MEDIA}?access_token=a%00b`),
      401,
      "M_UNKNOWN_TOKEN",
    );
  });

  test("authentication is checked before parameters: 401 and 403 win over 400", async () => {
    expectMatrixError(await request(app()).get(`${USERS_MEDIA}?limit=abc`), 401, "M_MISSING_TOKEN");
    const forbidden = await request(app())
      .get(`${USERS_MEDIA}?limit=abc&order_by=nope`)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.user}`);
    expectMatrixError(forbidden, 403, "M_FORBIDDEN");
  });

  test("authCheck may answer synchronously", async () => {
    const server = createTestApp({
      knex: db.current.knex,
      authCheck: (token) => (token === "sync" ? { userId: "@sync:test", admin: true } : null),
    });
    expect(
      (await request(server).get(USERS_MEDIA).set("Authorization", "Bearer sync")).status,
    ).toBe(200);
    expectMatrixError(
      await request(server).get(USERS_MEDIA).set("Authorization", "Bearer other"),
      401,
      "M_UNKNOWN_TOKEN",
    );
  });

  test("authCheck receives the token and the express request", async () => {
    const authCheck = jest.fn((_token: string, req: { path: string }) =>
      req.path.endsWith("/users/media") ? { userId: "@a:test", admin: true } : null,
    );
    const server = createTestApp({ knex: db.current.knex, authCheck });
    await request(server)
      .get(USERS_MEDIA)
      .set("Authorization", `Bearer ${TEST_SECRETS.tokenPassedToAuthCheck}`);
    expect(authCheck).toHaveBeenCalledTimes(1);
    expect(authCheck.mock.calls[0]?.[0]).toBe(TEST_SECRETS.tokenPassedToAuthCheck);
  });

  test("authCheck throwing is 500 M_UNKNOWN with a generic body; the log has no token", async () => {
    const { logger, records } = recordingLogger();
    const secret = TEST_SECRETS.thrownToken;
    const server = createTestApp({
      knex: db.current.knex,
      logger,
      authCheck: (token) => {
        throw new Error(`identity service refused ${token} at /srv/app.js:12`);
      },
    });
    const res = await request(server).get(USERS_MEDIA).set("Authorization", `Bearer ${secret}`);
    expectMatrixError(res, 500, "M_UNKNOWN");
    expect(res.body).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" });
    expect(records).toHaveLength(1);
    expect(records[0]?.level).toBe("error");
    expect(JSON.stringify(records)).not.toContain(secret);
    expect(JSON.stringify(records)).toContain("identity service refused");
  });

  test.each([
    ["undefined", undefined],
    ["a bare true", true],
    ["admin as a string", { userId: "@a:test", admin: "false" }],
    ["no userId", { admin: true }],
  ])("authCheck answering %s is 500 M_UNKNOWN, never access", async (_name, answer) => {
    const { logger, records } = recordingLogger();
    const server = createTestApp({
      knex: db.current.knex,
      logger,
      authCheck: (() => answer) as never,
    });
    const res = await request(server).get(USERS_MEDIA).set("Authorization", "Bearer whatever");
    expectMatrixError(res, 500, "M_UNKNOWN");
    expect(records[0]?.message).toMatch(/authCheck must resolve to/);
  });

  test("a database failure is 500 M_UNKNOWN with no SQL, stack or token in body or log", async () => {
    const { logger, records } = recordingLogger();
    const server = createTestApp({
      knex: db.current.knex,
      logger,
      authCheck: () => ({ userId: "@a:test", admin: true }),
    });
    await db.current.admin.schema.renameTable("local_media_repository", "lmr_away");
    try {
      const res = await request(server)
        .get(USERS_MEDIA)
        .query({ search_term: "needle" })
        .set("Authorization", `Bearer ${TEST_SECRETS.databaseFailureToken}`);
      expectMatrixError(res, 500, "M_UNKNOWN");
      expect(res.body).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" });
      const logged = JSON.stringify(records);
      expect(logged).toContain("local_media_repository");
      expect(logged).not.toMatch(/select|SELECT/);
      expect(logged).not.toContain(TEST_SECRETS.databaseFailureToken);
      expect(logged).not.toMatch(/\n\s+at /);
    } finally {
      await db.current.admin.schema.renameTable("lmr_away", "local_media_repository");
    }
  });
});
