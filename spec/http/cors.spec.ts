// CORS as Synapse sends it: admin UIs are browser apps on another origin.

import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import {
  createHostApp,
  createTestApp,
  createTestRouter,
  EXPRESS_MAJORS,
  USERS_MEDIA,
} from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { SYNAPSE_CORS_HEADERS } from "../helpers/matrix";

describe.each(DATABASE_VARIANTS)("CORS on $name", (variant) => {
  const db = useTestDatabase(variant);

  describe.each(EXPRESS_MAJORS)("mounted in %s", (major) => {
    const app = () => createTestApp({ knex: db.current.knex, express: major });

    test("CORS headers are on a successful response", async () => {
      const res = await request(app())
        .get(USERS_MEDIA)
        .set("Origin", "https://admin.example")
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
    });

    test("CORS headers are on error responses too", async () => {
      const missing = await request(app()).get(USERS_MEDIA);
      expect(missing.status).toBe(401);
      expect(missing.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
      const invalid = await request(app())
        .get(`${USERS_MEDIA}?limit=x`)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(invalid.status).toBe(400);
      expect(invalid.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
    });

    test("an OPTIONS preflight is answered 200 without a token", async () => {
      const res = await request(app())
        .options(USERS_MEDIA)
        .set("Origin", "https://admin.example")
        .set("Access-Control-Request-Method", "GET")
        .set("Access-Control-Request-Headers", "authorization");
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject(SYNAPSE_CORS_HEADERS);
    });
  });

  test("cors: false sends no CORS headers and leaves OPTIONS to the host app", async () => {
    const app = createHostApp();
    app.use("/_synapse/admin", createTestRouter({ knex: db.current.knex, cors: false }));
    app.options(/.*/, (_req, res) => {
      res.status(204).set("X-Host-Cors", "yes").end();
    });
    const res = await request(app)
      .get(USERS_MEDIA)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    const preflight = await request(app).options(USERS_MEDIA);
    expect(preflight.status).toBe(204);
    expect(preflight.headers["x-host-cors"]).toBe("yes");
  });
});
