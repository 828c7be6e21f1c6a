// Who may call the storage endpoints and what every answer carries: the same token rules,
// admin check, CORS, methods and exact paths as Synapse's endpoints; and the option that
// leaves them out.

import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import { createStatisticsRouter } from "../../lib";
import { createHostApp, createTestApp, createTestRouter, USERS_MEDIA } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { expectMatrixError, SYNAPSE_CORS_HEADERS } from "../helpers/matrix";
import { LARGEST_MEDIA, REMOTE_ORIGINS, STORAGE_OVERVIEW } from "../helpers/paths";

const PATHS = [STORAGE_OVERVIEW, REMOTE_ORIGINS, LARGEST_MEDIA];

describe.each(DATABASE_VARIANTS)("storage endpoints' access on $name", (variant) => {
  const db = useTestDatabase(variant);
  const app = () => createTestApp({ knex: db.current.knex });

  describe.each(PATHS)("%s", (path) => {
    test("no token is 401 M_MISSING_TOKEN, with CORS headers", async () => {
      const res = await request(app()).get(path).set("Origin", "https://admin.example");
      expectMatrixError(res, 401, "M_MISSING_TOKEN");
      expect(res.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
    });

    test("unknown and expired tokens are 401 M_UNKNOWN_TOKEN", async () => {
      for (const token of [
        "nope",
        STANDARD_TOKENS.expiredAdmin,
        STANDARD_TOKENS.deactivatedAdmin,
      ]) {
        const res = await request(app()).get(path).set("Authorization", `Bearer ${token}`);
        expectMatrixError(res, 401, "M_UNKNOWN_TOKEN");
      }
    });

    test("a non-admin is 403 M_FORBIDDEN, before any parameter is read", async () => {
      const res = await request(app())
        .get(`${path}?limit=x&source=nope`)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.user}`);
      expectMatrixError(res, 403, "M_FORBIDDEN", "You are not a server admin");
    });

    test("an admin's token, in the header or the query, is 200 with CORS headers", async () => {
      const header = await request(app())
        .get(path)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(header.status).toBe(200);
      expect(header.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
      expect(header.headers["cache-control"]).toMatch(/no-store/);
      const query = await request(app()).get(path).query({ access_token: STANDARD_TOKENS.admin });
      expect(query.status).toBe(200);
    });

    test("an OPTIONS preflight is 200 without a token", async () => {
      const res = await request(app())
        .options(path)
        .set("Origin", "https://admin.example")
        .set("Access-Control-Request-Method", "GET");
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
    });

    test("POST is 405 M_UNRECOGNIZED with an Allow header", async () => {
      const res = await request(app()).post(path);
      expectMatrixError(res, 405, "M_UNRECOGNIZED");
      expect(res.headers.allow).toBe("GET, HEAD, OPTIONS");
    });
  });
});

describe("storage endpoints' paths", () => {
  const db = useTestDatabase("sqlite");
  const hostWith = (options: { storageEndpoints?: boolean }) => {
    const host = createHostApp();
    host.use("/_synapse/admin", createTestRouter({ knex: db.current.knex, ...options }));
    host.use((_req, res) => {
      res.status(404).json({ errcode: "M_UNRECOGNIZED", error: "host 404" });
    });
    return host;
  };

  test("are exact: a trailing slash, another case or a Synapse prefix is left to the host", async () => {
    for (const path of [
      `${STORAGE_OVERVIEW}/`,
      STORAGE_OVERVIEW.toUpperCase(),
      "/_synapse/admin/v1/storage/overview",
      "/_synapse/admin/v1/statistics/storage/overview",
    ]) {
      const res = await request(hostWith({}))
        .get(path)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect({ path, status: res.status, error: res.body.error }).toEqual({
        path,
        status: 404,
        error: "host 404",
      });
    }
  });

  test("are under the package's namespace, never a Synapse version prefix", () => {
    for (const path of PATHS) {
      expect(path).toMatch(/^\/_synapse\/admin\/io\.github\.synapse-admin-statistics\/v1\//);
    }
  });

  test("storageEndpoints: false leaves them out, and Synapse's endpoints in", async () => {
    const host = hostWith({ storageEndpoints: false });
    for (const path of PATHS) {
      const res = await request(host)
        .get(path)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    const synapse = await request(host)
      .get(USERS_MEDIA)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(synapse.status).toBe(200);
  });

  test.each([["yes"], [1], [null]])(
    "storageEndpoints of %p is a TypeError naming the option",
    (value) => {
      expect(() =>
        createStatisticsRouter({
          knex: db.current.knex,
          authCheck: () => null,
          storageEndpoints: value as never,
        }),
      ).toThrow(
        new TypeError('createStatisticsRouter: option "storageEndpoints" must be a boolean'),
      );
    },
  );
});
