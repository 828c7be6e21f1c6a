// synapseDelegatedAuth: tokens checked by asking Synapse (whoami, then the user-admin API), as
// with the Matrix Authentication Service. Against a fake Synapse over real HTTP, through the
// router on both databases.

import request from "supertest";
import { freePort } from "../../fixtures";
import { MatrixError, synapseDelegatedAuth, type SynapseDelegatedAuthOptions } from "../../lib";
import { Errcode } from "../../lib/errors";
import { SharedChecks, tokenKey } from "../../lib/http/token-cache";
import { createTestApp, recordingLogger, USERS_MEDIA, type LogRecord } from "../helpers/app";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/databases";
import {
  MAS_ADMIN_SCOPE,
  startFakeSynapse,
  WHOAMI,
  type FakeSynapse,
  type TokenOwner,
} from "../helpers/fake-synapse";
import { expectMatrixError } from "../helpers/matrix";

const TOKENS = {
  admin: "syt_delegated_admin_8c1f",
  user: "syt_delegated_user_51aa",
  guest: "syt_delegated_guest_77d0",
  masAdmin: "mat_delegated_masadmin_93be",
  masUser: "mat_delegated_masuser_2f64",
  appserviceAdmin: "as_delegated_bridge_admin_0c3d",
  expired: "syt_delegated_expired_4e19",
  locked: "syt_delegated_locked_a6b2",
  unknown: "syt_delegated_never_issued_55",
} as const;

const OWNERS: Record<string, TokenOwner> = {
  [TOKENS.admin]: { auth: "synapse", userId: "@root:fake.test", admin: true },
  [TOKENS.user]: { auth: "synapse", userId: "@alice:fake.test", admin: false },
  [TOKENS.guest]: { auth: "synapse", userId: "@123456:fake.test", admin: false, guest: true },
  // MAS keeps admin rights in the token's scope; users.admin stays 0 for this user.
  [TOKENS.masAdmin]: {
    auth: "mas",
    userId: "@oidc-admin:fake.test",
    scope: ["urn:matrix:client:api:*", MAS_ADMIN_SCOPE],
    storedAdmin: false,
  },
  [TOKENS.masUser]: {
    auth: "mas",
    userId: "@oidc-user:fake.test",
    scope: ["urn:matrix:client:api:*"],
    storedAdmin: true,
  },
  [TOKENS.appserviceAdmin]: { auth: "appservice", userId: "@bridge:fake.test", admin: true },
  [TOKENS.expired]: {
    auth: "refused",
    body: { errcode: "M_UNKNOWN_TOKEN", error: "Access token has expired", soft_logout: true },
  },
  [TOKENS.locked]: {
    auth: "refused",
    body: { errcode: "M_USER_LOCKED", error: "User account has been locked", soft_logout: true },
  },
};

const ADMIN_API = (userId: string): string =>
  `/_synapse/admin/v1/users/${encodeURIComponent(userId)}/admin`;

let synapse: FakeSynapse;
beforeAll(async () => {
  synapse = await startFakeSynapse(OWNERS);
});
afterAll(() => synapse.close());
beforeEach(() => synapse.reset());

const bearer = (token: string): [string, string] => ["Authorization", `Bearer ${token}`];

describe.each(DATABASE_KINDS)("synapseDelegatedAuth on %s", (kind) => {
  const db = useTestDatabase(kind);
  let records: LogRecord[];
  const app = (options: Partial<SynapseDelegatedAuthOptions> = {}) => {
    const recording = recordingLogger();
    records = recording.records;
    return createTestApp({
      knex: db.current.knex,
      logger: recording.logger,
      authCheck: synapseDelegatedAuth({
        baseUrl: synapse.url,
        logger: recording.logger,
        timeoutMs: 1_000,
        ...options,
      }),
      // Room in the queue for a whole burst: these tests count checks upstream, not slots.
      maxQueuedQueries: 50,
    });
  };

  const askVia = (server: ReturnType<typeof app>, token: string) =>
    request(server)
      .get(USERS_MEDIA)
      .set(...bearer(token));
  const ask = (token: string, options: Partial<SynapseDelegatedAuthOptions> = {}) =>
    askVia(app(options), token);

  test("a Synapse admin's token is admitted after whoami and the admin API", async () => {
    const res = await ask(TOKENS.admin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ users: [], total: 0 });
    expect(synapse.calls).toEqual([WHOAMI, ADMIN_API("@root:fake.test")]);
  });

  test("a MAS token with the urn:synapse:admin:* scope is admitted though users.admin is 0", async () => {
    const res = await ask(TOKENS.masAdmin);
    expect(res.status).toBe(200);
  });

  test("a MAS token without the admin scope is 403 M_FORBIDDEN though users.admin is 1", async () => {
    const res = await ask(TOKENS.masUser);
    expectMatrixError(res, 403, "M_FORBIDDEN", "You are not a server admin");
  });

  test("an appservice token whose sender is an admin is admitted", async () => {
    const res = await ask(TOKENS.appserviceAdmin);
    expect(res.status).toBe(200);
  });

  test("a user who is not an admin is 403 M_FORBIDDEN", async () => {
    const res = await ask(TOKENS.user);
    expectMatrixError(res, 403, "M_FORBIDDEN", "You are not a server admin");
  });

  test("a guest is 403 M_GUEST_ACCESS_FORBIDDEN, and the admin API is not asked", async () => {
    const res = await ask(TOKENS.guest);
    expectMatrixError(res, 403, "M_GUEST_ACCESS_FORBIDDEN");
    expect(synapse.calls).toEqual([WHOAMI]);
  });

  test.each([
    ["a token Synapse does not know", TOKENS.unknown, "M_UNKNOWN_TOKEN", false],
    ["an expired token (soft logout)", TOKENS.expired, "M_UNKNOWN_TOKEN", true],
    ["a locked user's token", TOKENS.locked, "M_USER_LOCKED", true],
  ])(
    "%s is Synapse's 401 with its errcode and soft_logout",
    async (_name, token, errcode, soft) => {
      const res = await ask(token);
      expectMatrixError(res, 401, errcode);
      expect(res.body.soft_logout).toBe(soft);
      expect(synapse.calls).toEqual([WHOAMI]);
    },
  );

  test("a 401 with an errcode Synapse never sends on 401 is M_UNKNOWN_TOKEN", async () => {
    synapse.faults.whoami = {
      status: 401,
      body: JSON.stringify({ errcode: "M_SOMETHING_NEW", error: "No." }),
    };
    const res = await ask(TOKENS.admin);
    expectMatrixError(res, 401, "M_UNKNOWN_TOKEN");
    expect(res.body).not.toHaveProperty("soft_logout");
  });

  test("a token revoked between whoami and the admin API is Synapse's 401", async () => {
    synapse.faults.admin = {
      status: 401,
      body: JSON.stringify({ errcode: "M_UNKNOWN_TOKEN", error: "Invalid access token passed." }),
    };
    const res = await ask(TOKENS.admin);
    expectMatrixError(res, 401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
  });

  test("a token no header can carry is 401 M_UNKNOWN_TOKEN without asking Synapse", async () => {
    const res = await request(app())
      .get(USERS_MEDIA)
      .query({ access_token: "tok\u00e9n with spaces" });
    expectMatrixError(res, 401, "M_UNKNOWN_TOKEN");
    expect(synapse.calls).toEqual([]);
  });

  describe("when Synapse cannot answer, the request is 503 with Retry-After, never access", () => {
    const expectUnavailable = (res: request.Response): void => {
      expectMatrixError(res, 503, "M_UNKNOWN");
      expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
    };
    const expectWarned = (pattern: RegExp): void => {
      expect(records.filter((record) => record.level === "warn").map((r) => r.message)).toEqual([
        expect.stringMatching(pattern),
      ]);
      expect(JSON.stringify(records)).not.toContain(TOKENS.admin);
    };

    test("Synapse unreachable", async () => {
      const closed = await freePort();
      const res = await ask(TOKENS.admin, { baseUrl: `http://127.0.0.1:${closed}` });
      expectUnavailable(res);
      expectWarned(/could not be reached/);
      expect(records[0]?.details.code).toBe("ECONNREFUSED");
    });

    test("Synapse slower than timeoutMs", async () => {
      synapse.faults.whoami = { delayMs: 1_500 };
      const started = Date.now();
      const res = await ask(TOKENS.admin, { timeoutMs: 300 });
      expectUnavailable(res);
      expect(Date.now() - started).toBeLessThan(1_400);
      expectWarned(/did not answer in time/);
    });

    test("timeoutMs bounds both requests together", async () => {
      synapse.faults.whoami = { delayMs: 200 };
      synapse.faults.admin = { delayMs: 200 };
      const res = await ask(TOKENS.admin, { timeoutMs: 300 });
      expectUnavailable(res);
    });

    test.each([
      ["whoami", 500],
      ["whoami", 502],
      ["admin", 500],
      ["whoami", 404],
      ["whoami", 429],
      ["admin", 400],
    ] as const)("%s answering HTTP %i", async (endpoint, status) => {
      synapse.faults[endpoint] = {
        status,
        body: JSON.stringify({ errcode: "M_UNKNOWN", error: "Internal server error" }),
      };
      const res = await ask(TOKENS.admin);
      expectUnavailable(res);
      expectWarned(new RegExp(`answered ${endpoint} with HTTP ${status}`));
    });

    test.each([
      ["whoami", "an HTML page", "<html><body>Bad gateway</body></html>"],
      ["whoami", "JSON without user_id", JSON.stringify({ is_guest: false })],
      ["whoami", "a user_id that is not one", JSON.stringify({ user_id: "root" })],
      [
        "whoami",
        "is_guest as a string",
        JSON.stringify({ user_id: "@a:fake.test", is_guest: "no" }),
      ],
      ["admin", "an empty body", ""],
      ["admin", "admin as a string", JSON.stringify({ admin: "true" })],
      ["admin", "a JSON array", "[true]"],
    ] as const)("%s answering 200 with %s", async (endpoint, _what, body) => {
      synapse.faults[endpoint] = { status: 200, body };
      const res = await ask(TOKENS.admin);
      expectUnavailable(res);
    });

    test("an answer longer than any of Synapse's", async () => {
      synapse.faults.whoami = {
        status: 200,
        body: `{"user_id":"@a:fake.test","x":"${"x".repeat(70_000)}"}`,
      };
      const res = await ask(TOKENS.admin);
      expectUnavailable(res);
      expectWarned(/too long/);
    });

    test("a redirect, which is not followed: the token goes nowhere else", async () => {
      synapse.faults.whoami = { status: 302, headers: { Location: `${synapse.url}/elsewhere` } };
      const res = await ask(TOKENS.admin);
      expectUnavailable(res);
      expect(synapse.calls).toEqual([WHOAMI]);
    });

    test("a failure is not remembered: the next request asks again and is admitted", async () => {
      const server = app();
      synapse.faults.whoami = { status: 503, body: "" };
      expectUnavailable(await askVia(server, TOKENS.admin));
      synapse.faults = {};
      expect((await askVia(server, TOKENS.admin)).status).toBe(200);
    });
  });

  describe("the cache of admitted tokens", () => {
    test("a token admitted once is not checked again within cacheTtlMs", async () => {
      const server = app({ cacheTtlMs: 60_000 });
      for (let i = 0; i < 3; i++) {
        expect((await askVia(server, TOKENS.admin)).status).toBe(200);
      }
      expect(synapse.calls).toHaveLength(2);
    });

    test("revocation takes effect once cacheTtlMs has passed", async () => {
      const token = "syt_delegated_revoked_later_01";
      synapse.tokens.set(token, { auth: "synapse", userId: "@temp:fake.test", admin: true });
      const server = app({ cacheTtlMs: 300 });
      expect((await askVia(server, token)).status).toBe(200);
      synapse.tokens.delete(token);
      // Within the revocation delay the cached answer still stands.
      expect((await askVia(server, token)).status).toBe(200);
      await new Promise((done) => setTimeout(done, 400));
      expectMatrixError(await askVia(server, token), 401, "M_UNKNOWN_TOKEN");
    });

    test("cacheTtlMs 0 asks Synapse on every request", async () => {
      const server = app({ cacheTtlMs: 0 });
      for (let i = 0; i < 3; i++) {
        expect((await askVia(server, TOKENS.admin)).status).toBe(200);
      }
      expect(synapse.calls).toHaveLength(6);
    });

    test("a refusal is not remembered: a user made admin is admitted on the next request", async () => {
      const token = "syt_delegated_promoted_02";
      synapse.tokens.set(token, { auth: "synapse", userId: "@promoted:fake.test", admin: false });
      const server = app();
      expect((await askVia(server, token)).status).toBe(403);
      synapse.tokens.set(token, { auth: "synapse", userId: "@promoted:fake.test", admin: true });
      expect((await askVia(server, token)).status).toBe(200);
    });

    test("a burst of requests with one token makes one check upstream", async () => {
      synapse.faults.whoami = { delayMs: 150 };
      const server = app();
      const statuses = await Promise.all(
        Array.from({ length: 20 }, () => askVia(server, TOKENS.admin).then((res) => res.status)),
      );
      expect(statuses).toEqual(Array(20).fill(200));
      expect(synapse.calls).toEqual([WHOAMI, ADMIN_API("@root:fake.test")]);
    });

    test("a burst with a refused token makes one check too, and every request is refused", async () => {
      synapse.faults.whoami = { delayMs: 150 };
      const server = app();
      const statuses = await Promise.all(
        Array.from({ length: 10 }, () => askVia(server, TOKENS.user).then((res) => res.status)),
      );
      expect(statuses).toEqual(Array(10).fill(403));
      expect(synapse.calls).toHaveLength(2);
    });
  });
});

describe("the remembered answers", () => {
  test("are kept by the token's SHA-256 digest, never by the token", () => {
    expect(tokenKey(TOKENS.admin)).not.toContain(TOKENS.admin);
    expect(tokenKey(TOKENS.admin)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test("are at most cacheSize; the least recently used is forgotten first", async () => {
    let now = 0;
    const checks = new SharedChecks<string>(1_000, 2, () => now);
    const runs: string[] = [];
    const look = (key: string) =>
      checks.lookup(key, async () => {
        runs.push(key);
        return key;
      });
    await look("a");
    await look("b");
    await look("a"); // a is now the most recently used
    await look("c"); // forgets b
    expect(checks.size).toBe(2);
    await look("a");
    await look("b");
    expect(runs).toEqual(["a", "b", "c", "b"]);
    now = 1_000; // everything has expired
    await look("a");
    expect(runs).toEqual(["a", "b", "c", "b", "a"]);
  });
});

describe("synapseDelegatedAuth options", () => {
  test.each([
    [{}, /"baseUrl" is required/],
    [{ baseUrl: "localhost:8008" }, /http\(s\) URL/],
    [{ baseUrl: "ftp://synapse" }, /http\(s\) URL/],
    [{ baseUrl: "http://u:p@synapse" }, /credentials/],
    [{ baseUrl: "http://synapse/?x=1" }, /query/],
    [
      { baseUrl: "http://synapse", cacheTtlMs: -1 },
      /"cacheTtlMs" must be an integer of at least 0/,
    ],
    [{ baseUrl: "http://synapse", cacheSize: 0 }, /"cacheSize"/],
    [{ baseUrl: "http://synapse", timeoutMs: 1.5 }, /"timeoutMs"/],
    [{ baseUrl: "http://synapse", fetch: "yes" }, /"fetch" must be a function/],
    [{ baseUrl: "http://synapse", cacheTTL: 5 }, /unknown option "cacheTTL"/],
  ])("%j is a TypeError naming the problem", (options, message) => {
    expect(() => synapseDelegatedAuth(options as never)).toThrow(TypeError);
    expect(() => synapseDelegatedAuth(options as never)).toThrow(message);
  });

  test("a base URL with a path prefix and a trailing slash is joined once", async () => {
    const seen: string[] = [];
    const check = synapseDelegatedAuth({
      baseUrl: "https://matrix.example.org/synapse/",
      fetch: async (url) => {
        seen.push(String(url));
        return new Response(JSON.stringify({ errcode: "M_UNKNOWN_TOKEN", error: "no" }), {
          status: 401,
        });
      },
    });
    await expect(check("syt_anything", {} as never)).rejects.toBeInstanceOf(MatrixError);
    expect(seen).toEqual(["https://matrix.example.org/synapse/_matrix/client/v3/account/whoami"]);
  });
});

describe("an authCheck's MatrixError", () => {
  const db = useTestDatabase("sqlite");

  test("is answered as it is: status, errcode, message and headers", async () => {
    const res = await request(
      createTestApp({
        knex: db.current.knex,
        authCheck: () => {
          throw new MatrixError(403, Errcode.GUEST_ACCESS_FORBIDDEN, "Guest access not allowed", {
            "X-Why": "guest",
          });
        },
      }),
    )
      .get(USERS_MEDIA)
      .set(...bearer("whatever-token"));
    expectMatrixError(res, 403, "M_GUEST_ACCESS_FORBIDDEN", "Guest access not allowed");
    expect(res.headers["x-why"]).toBe("guest");
  });

  test("while any other throw is still the generic 500", async () => {
    const { logger } = recordingLogger();
    const res = await request(
      createTestApp({
        knex: db.current.knex,
        logger,
        authCheck: () => {
          throw Object.assign(new Error("nope"), { status: 403, errcode: "M_FORBIDDEN" });
        },
      }),
    )
      .get(USERS_MEDIA)
      .set(...bearer("whatever-token"));
    expect(res.body).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" });
    expect(res.status).toBe(500);
  });
});
