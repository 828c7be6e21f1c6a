// Unexpected failures are a generic 500 M_UNKNOWN, and the detail a line in the log.

import request from "supertest";
import { openPostgres, openSqlite, STANDARD_TOKENS } from "../../fixtures";
import { createTestApp, recordingLogger, USERS_MEDIA } from "../helpers/app";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";

const adminCheck = () => ({ userId: "@admin:test", admin: true });

describe("database unreachable", () => {
  test("an unreachable postgres database is 503 M_UNKNOWN with Retry-After, and one warning", async () => {
    const knex = openPostgres("postgres://nobody:secret@127.0.0.1:1/none");
    const { logger, records } = recordingLogger();
    try {
      const app = createTestApp({ knex, authCheck: adminCheck, logger });
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await request(app).get(USERS_MEDIA).set("Authorization", "Bearer t");
        expect(res.status).toBe(503);
        expect(res.body).toEqual({
          errcode: "M_UNKNOWN",
          error: "The database is temporarily unavailable",
        });
        expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
      }
      expect(records.map(({ level, details }) => ({ level, cause: details.cause }))).toEqual([
        { level: "warn", cause: "database-unavailable" },
      ]);
      expect(JSON.stringify(records)).not.toContain("secret");
    } finally {
      await knex.destroy();
    }
  });

  test("a sqlite database file that cannot be opened is 500 M_UNKNOWN with a generic body", async () => {
    const knex = openSqlite("/nonexistent-directory/synapse.db");
    const { logger, records } = recordingLogger();
    try {
      const res = await request(createTestApp({ knex, authCheck: adminCheck, logger }))
        .get(USERS_MEDIA)
        .set("Authorization", "Bearer t");
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" });
      expect(records).toHaveLength(1);
      // The full path the client asked for, mount included (issue 11).
      expect(records[0]?.details.path).toBe(USERS_MEDIA);
      expect(JSON.stringify(records)).not.toContain("secret");
    } finally {
      await knex.destroy();
    }
  });
});

describe.each(DATABASE_VARIANTS)("missing tables on $name", (variant) => {
  const db = useTestDatabase(variant);

  test.each(["profiles", "local_media_repository"])(
    "a missing %s table is 500 M_UNKNOWN with a log line naming it",
    async (table) => {
      const { logger, records } = recordingLogger();
      await db.current.admin.schema.renameTable(table, `${table}_elsewhere`);
      try {
        const res = await request(createTestApp({ knex: db.current.knex, logger }))
          .get(USERS_MEDIA)
          .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
        expect(res.status).toBe(500);
        expect(res.body).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" });
        expect(records).toHaveLength(1);
        expect(records[0]?.details.message).toBe(`table ${table} does not exist`);
      } finally {
        await db.current.admin.schema.renameTable(`${table}_elsewhere`, table);
      }
    },
  );

  test("a logger that throws does not stop the 500 from being answered, nor crash the process", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const throwing = {
      error: () => {
        throw new Error("log sink is down");
      },
      warn: () => undefined,
      info: () => undefined,
    };
    await db.current.admin.schema.renameTable("profiles", "profiles_elsewhere");
    try {
      const res = await request(createTestApp({ knex: db.current.knex, logger: throwing }))
        .get(USERS_MEDIA)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" });
    } finally {
      await db.current.admin.schema.renameTable("profiles_elsewhere", "profiles");
      await new Promise((done) => setImmediate(done));
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  test("the schema is probed again after a failure, so a later migration is picked up", async () => {
    const { logger } = recordingLogger();
    await db.current.admin.schema.renameTable("profiles", "profiles_elsewhere");
    const app = createTestApp({ knex: db.current.knex, logger });
    try {
      const res = await request(app)
        .get(USERS_MEDIA)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(res.status).toBe(500);
    } finally {
      await db.current.admin.schema.renameTable("profiles_elsewhere", "profiles");
    }
    const res = await request(app)
      .get(USERS_MEDIA)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(res.status).toBe(200);
  });
});
