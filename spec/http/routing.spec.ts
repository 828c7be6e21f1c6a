// What the router answers and what it leaves to the host app around it.

import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import {
  createHostApp,
  createTestApp,
  createTestRouter,
  EXPRESS_MAJORS,
  USERS_MEDIA,
} from "../helpers/app";
import { useTestDatabase } from "../helpers/databases";

describe.each(EXPRESS_MAJORS)("routing in %s", (major) => {
  const db = useTestDatabase("sqlite");
  const app = () => createTestApp({ knex: db.current.knex, express: major });

  test.each(["POST", "PUT", "DELETE", "PATCH"] as const)(
    "%s on the endpoint is 405 M_UNRECOGNIZED with an Allow header",
    async (method) => {
      const res = await request(app())[method.toLowerCase() as "post"](USERS_MEDIA);
      expect(res.status).toBe(405);
      expect(res.body).toEqual({ errcode: "M_UNRECOGNIZED", error: "Unrecognized request" });
      expect(res.headers.allow).toBe("GET, HEAD, OPTIONS");
    },
  );

  test("HEAD is answered like GET, without a body", async () => {
    const res = await request(app())
      .head(USERS_MEDIA)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(res.status).toBe(200);
    expect(res.text).toBeUndefined();
  });

  test("paths are exact: a trailing slash or another case is left to the host app", async () => {
    const host = createHostApp(major);
    host.use("/_synapse/admin", createTestRouter({ knex: db.current.knex }));
    host.use((_req, res) => {
      res.status(404).json({ errcode: "M_UNRECOGNIZED", error: "host 404" });
    });
    for (const path of [
      `${USERS_MEDIA}/`,
      USERS_MEDIA.toUpperCase(),
      "/_synapse/admin/v1/statistics/other",
    ]) {
      const res = await request(host)
        .get(path)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe("host 404");
    }
  });

  test("the host's query parser setting changes nothing", async () => {
    const host = createHostApp(major);
    host.set("query parser", "extended");
    host.use("/_synapse/admin", createTestRouter({ knex: db.current.knex }));
    const res = await request(host)
      .get(`${USERS_MEDIA}?limit[a]=1&order_by[]=x`)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(res.status).toBe(200);
  });
});
