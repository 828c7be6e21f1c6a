// Issue 11, item 3: paths are exact and case-sensitive, as Synapse matches them. The CLI answers
// 404 M_UNRECOGNIZED for another case or a trailing slash; a host app's case-insensitive mount
// of `/_synapse/admin` does not let `/_SYNAPSE/ADMIN` through the router either.

import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import { useServedSqlite } from "../helpers/cli";
import { createHostApp, createTestRouter, EXPRESS_MAJORS, USERS_MEDIA } from "../helpers/app";
import { useTestDatabase } from "../helpers/databases";

const OPENAPI = "/_synapse/admin/v1/statistics/openapi.json";
const authorized = { headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` } };

describe("the CLI's paths", () => {
  const served = useServedSqlite();

  test.each([
    ["the mount prefix in upper case", "/_SYNAPSE/ADMIN/v1/statistics/users/media"],
    ["the mount prefix in mixed case", "/_Synapse/Admin/v1/statistics/users/media"],
    ["the endpoint in upper case", "/_synapse/admin/V1/STATISTICS/USERS/MEDIA"],
    ["a trailing slash on the endpoint", `${USERS_MEDIA}/`],
    ["the OpenAPI document in upper case", "/_synapse/admin/v1/statistics/OPENAPI.JSON"],
    ["the OpenAPI document with a trailing slash", `${OPENAPI}/`],
    [
      "the OpenAPI document under an upper-case prefix",
      "/_SYNAPSE/ADMIN/v1/statistics/openapi.json",
    ],
  ])("%s is 404 M_UNRECOGNIZED", async (_case, path) => {
    const res = await fetch(`${served.cli.baseUrl}${path}`, authorized);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errcode: "M_UNRECOGNIZED", error: "Unrecognized request" });
  });

  test("the exact paths still answer", async () => {
    expect((await fetch(`${served.cli.baseUrl}${USERS_MEDIA}`, authorized)).status).toBe(200);
    expect((await fetch(`${served.cli.baseUrl}${OPENAPI}`)).status).toBe(200);
  });
});

describe.each(EXPRESS_MAJORS)("a host app in %s", (major) => {
  const db = useTestDatabase("sqlite");

  /** A host app as most are written: express's defaults (case-insensitive mounts). */
  function hostApp(settings: Record<string, boolean> = {}) {
    const host = createHostApp(major);
    for (const [name, value] of Object.entries(settings)) host.set(name, value);
    host.use("/_synapse/admin", createTestRouter({ knex: db.current.knex }));
    host.use((_req, res) => {
      res.status(404).json({ errcode: "M_UNRECOGNIZED", error: "host 404" });
    });
    return host;
  }

  test.each(["/_SYNAPSE/ADMIN", "/_Synapse/Admin", "/_synapse/ADMIN"])(
    "a case-insensitive mount does not let %s through the router",
    async (prefix) => {
      const res = await request(hostApp())
        .get(`${prefix}/v1/statistics/users/media`)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe("host 404");
    },
  );

  test("the exact mount still serves, with express's defaults and with case-sensitive routing", async () => {
    const defaults: Record<string, boolean> = {};
    for (const settings of [defaults, { "case sensitive routing": true, "strict routing": true }]) {
      const res = await request(hostApp(settings))
        .get(USERS_MEDIA)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(res.status).toBe(200);
    }
  });

  test("a mount under a prefix of the host's own keeps working", async () => {
    const host = createHostApp(major);
    host.use("/matrix/_synapse/admin", createTestRouter({ knex: db.current.knex }));
    const ok = await request(host)
      .get(`/matrix${USERS_MEDIA}`)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(ok.status).toBe(200);
    const upper = await request(host)
      .get("/matrix/_SYNAPSE/admin/v1/statistics/users/media")
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(upper.status).toBe(404);
  });
});
