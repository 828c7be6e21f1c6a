// The OpenAPI document: valid OpenAPI 3.1, built from the parameter schemas, and describing
// exactly the parameters the router reads.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import request from "supertest";
import { STANDARD_TOKENS } from "../../fixtures";
import { buildOpenApiDocument } from "../../lib/openapi";
import { roomsQuerySchema } from "../../lib/params/rooms";
import { usersMediaQuerySchema } from "../../lib/params/users-media";
import { createTestApp } from "../helpers/app";
import { useTestDatabase } from "../helpers/databases";
import { largestMediaQuerySchema } from "../../lib/params/largest-media";
import { remoteOriginsQuerySchema } from "../../lib/params/remote-origins";
import {
  LARGEST_MEDIA,
  LARGEST_ROOMS,
  REMOTE_ORIGINS,
  STORAGE_OVERVIEW,
  USERS_MEDIA,
} from "../helpers/paths";

interface Operation {
  parameters: Array<{ name: string; in: string; schema: Record<string, unknown> }>;
}
const document = buildOpenApiDocument() as { paths: Record<string, { get: Operation }> };

test("the OpenAPI document is valid OpenAPI 3.1", () => {
  const dir = mkdtempSync(join(tmpdir(), "sas-openapi-"));
  try {
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(document));
    const validator = resolve(
      __dirname,
      "../../node_modules/@seriousme/openapi-schema-validator/bin/validate-api-cli.js",
    );
    const result = spawnSync(process.execPath, [validator, file], { encoding: "utf8" });
    expect(result.stdout + result.stderr).toMatch(/"valid": true/);
    expect(result.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a mount path other than /_synapse/admin moves every path", () => {
  const moved = buildOpenApiDocument({ mountPath: "/admin" }) as { paths: Record<string, unknown> };
  expect(Object.keys(moved.paths).every((path) => path.startsWith("/admin/"))).toBe(true);
  expect(Object.keys(moved.paths)).toContain("/admin/v1/statistics/users/media");
});

test("the storage endpoints are described unless left out, as the router leaves them", () => {
  expect(Object.keys(document.paths)).toEqual(
    expect.arrayContaining([STORAGE_OVERVIEW, REMOTE_ORIGINS, LARGEST_MEDIA]),
  );
  const without = buildOpenApiDocument({ storageEndpoints: false }) as {
    paths: Record<string, unknown>;
  };
  expect(Object.keys(without.paths).sort()).toEqual([LARGEST_ROOMS, USERS_MEDIA].sort());
});

const ENDPOINTS = [
  { path: USERS_MEDIA, schema: usersMediaQuerySchema, database: "sqlite" },
  // The rooms endpoint refuses SQLite before reading parameters: PostgreSQL it is.
  {
    path: LARGEST_ROOMS,
    schema: roomsQuerySchema,
    database: "postgres",
  },
  { path: REMOTE_ORIGINS, schema: remoteOriginsQuerySchema, database: "sqlite" },
  { path: LARGEST_MEDIA, schema: largestMediaQuerySchema, database: "sqlite" },
] as const;

describe.each(ENDPOINTS)(
  "documented parameters of $path are the parameters the router reads",
  (endpoint) => {
    const db = useTestDatabase(endpoint.database);
    const documented = document.paths[endpoint.path]?.get.parameters ?? [];

    test("every parameter of the schema is documented, and nothing else", () => {
      expect(documented.length).toBeGreaterThan(0);
      expect(documented.map((parameter) => parameter.name).sort()).toEqual(
        Object.keys(endpoint.schema.properties).sort(),
      );
      expect(documented.every((parameter) => parameter.in === "query")).toBe(true);
    });

    test("each documented parameter is read: a value outside its schema is a 400 naming it", async () => {
      for (const parameter of documented) {
        const bad =
          parameter.schema.type === "integer" ? "-1" : parameter.schema.enum ? "bogus" : "";
        const res = await request(createTestApp({ knex: db.current.knex }))
          .get(`${endpoint.path}?${parameter.name}=${bad}`)
          .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
        expect({
          parameter: parameter.name,
          status: res.status,
          errcode: res.body.errcode,
        }).toEqual({
          parameter: parameter.name,
          status: 400,
          errcode: "M_INVALID_PARAM",
        });
        expect(res.body.error).toContain(parameter.name);
      }
    });

    test("a parameter that is not documented is ignored by the router", async () => {
      const res = await request(createTestApp({ knex: db.current.knex }))
        .get(`${endpoint.path}?per_page=-1&orderBy=bogus`)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(res.status).toBe(200);
    });
  },
);
