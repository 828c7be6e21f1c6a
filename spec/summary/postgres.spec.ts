// What only PostgreSQL has: byte-order collation on the summary whatever the database's, the
// autovacuum settings, the lock that keeps uploads from slipping between backfill and
// triggers, disabled triggers, and roles (owner, other writers, readers) that keep working.

import { randomBytes } from "node:crypto";
import type { Knex } from "knex";
import { insertMedia, insertRemoteMedia, openPostgres } from "../../fixtures";
import {
  detectMediaUsageSummary,
  detectStorageSummary,
  installMediaUsageSummary,
  MEDIA_USAGE_SUMMARY_TABLE,
  uninstallMediaUsageSummary,
  verifyMediaUsageSummary,
} from "../../lib";
import { SUMMARY_INDEXES, SUMMARY_TRIGGERS } from "../../lib/summary/names";
import { STORAGE_SOURCE_TABLES } from "../../lib/summary/storage-names";
import { SUMMARY_STORAGE_PARAMETERS } from "../../lib/summary/postgres-summary";
import { openTestDatabase, useTestDatabase, type TestDatabase } from "../helpers/databases";
import { summaryRowOf } from "../helpers/media-usage";

const media = (id: string, userId: string | null, length: number | null = 10) => ({
  media_id: id,
  user_id: userId,
  media_length: length,
  created_ts: 1_000,
});

describe("the summary on a PostgreSQL database that is not C-collated", () => {
  const db = useTestDatabase("postgres", async () => undefined, { collation: "C.UTF-8" });

  test("user IDs and both sort indexes compare by bytes, so byte-order sorts walk the indexes", async () => {
    const { knex } = db.current;
    await insertMedia(knex, [
      media("a", "@b:test"),
      media("b", "@B:test"),
      media("c", "@a:test", 20),
    ]);
    await installMediaUsageSummary(knex);

    const collations = await knex.raw<{ rows: Array<{ name: string; collation: string }> }>(
      `SELECT a.attname AS name, c.collname AS collation
         FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
        WHERE a.attrelid = ?::regclass AND a.attname = 'user_id'
       UNION ALL
       SELECT i.relname || '.' || k.n, c.collname
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         CROSS JOIN LATERAL unnest(x.indcollation::oid[]) WITH ORDINALITY AS k(coll, n)
         JOIN pg_collation c ON c.oid = k.coll
        WHERE x.indrelid = ?::regclass`,
      [MEDIA_USAGE_SUMMARY_TABLE, MEDIA_USAGE_SUMMARY_TABLE],
    );
    expect(collations.rows.map((row) => `${row.name} ${row.collation}`).sort()).toEqual([
      `${SUMMARY_INDEXES.media_count}.2 C`,
      `${SUMMARY_INDEXES.media_length}.2 C`,
      "sas_user_media_usage_pkey.1 C",
      "user_id C",
    ]);

    await knex.transaction(async (trx) => {
      await trx.raw("SET LOCAL enable_seqscan = off");
      await trx.raw("SET LOCAL enable_sort = off");
      for (const [order, index] of [
        ["media_length DESC, user_id DESC", SUMMARY_INDEXES.media_length],
        ["media_count, user_id", SUMMARY_INDEXES.media_count],
        ["user_id DESC", "sas_user_media_usage_pkey"],
      ] as const) {
        const plan = await trx.raw<{ rows: Array<{ "QUERY PLAN": string }> }>(
          `EXPLAIN SELECT user_id FROM ${MEDIA_USAGE_SUMMARY_TABLE} ORDER BY ${order} LIMIT 2`,
        );
        expect(plan.rows.map((row) => row["QUERY PLAN"]).join("\n")).toContain(index);
      }
    });
    const rows = await knex(MEDIA_USAGE_SUMMARY_TABLE).select("user_id").orderBy("user_id");
    expect(rows.map((row: { user_id: string }) => row.user_id)).toEqual([
      "@B:test",
      "@a:test",
      "@b:test",
    ]);
  });
});

describe("the summary on PostgreSQL", () => {
  let database: TestDatabase;
  let knex: Knex;
  beforeEach(async () => {
    database = await openTestDatabase("postgres");
    knex = database.knex;
  });
  afterEach(() => database.close());

  test("the summary table carries its own autovacuum settings", async () => {
    await installMediaUsageSummary(knex);
    const result = await knex.raw<{ rows: Array<{ options: string[] }> }>(
      "SELECT reloptions AS options FROM pg_class WHERE oid = ?::regclass",
      [MEDIA_USAGE_SUMMARY_TABLE],
    );
    expect(result.rows[0]?.options.sort()).toEqual(
      Object.entries(SUMMARY_STORAGE_PARAMETERS)
        .map(([name, value]) => `${name}=${value}`)
        .sort(),
    );
  });

  test("install waits for an upload still in progress, and counts it once", async () => {
    await insertMedia(knex, [media("old", "@late:test", 5)]);
    const writer = await knex.transaction();
    await insertMedia(writer, [media("new", "@late:test", 7)]);
    let installed = false;
    const install = installMediaUsageSummary(knex).then((result) => {
      installed = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(installed).toBe(false);

    await writer.commit();

    expect(await install).toEqual({
      users: 1,
      media: 2,
      upgradedTriggers: [],
      userSummary: "installed",
      storageSummary: "installed",
    });
    expect(await summaryRowOf(knex, "@late:test")).toEqual({
      user_id: "@late:test",
      media_count: 2,
      media_length: 12,
    });
    await insertMedia(knex, [media("after", "@late:test", 1)]);
    expect((await verifyMediaUsageSummary(knex)).driftedUsers).toBe(0);
    expect(await summaryRowOf(knex, "@late:test")).toMatchObject({ media_count: 3 });
  });

  test.each([
    ["disabled", "DISABLE TRIGGER"],
    // Fires only in sessions of a logical replication apply worker, so not for Synapse's writes.
    ["enabled for replicas only", "ENABLE REPLICA TRIGGER"],
  ])("a trigger %s makes the summary undetected", async (_state, alteration) => {
    await installMediaUsageSummary(knex);
    await knex.raw(`ALTER TABLE local_media_repository ${alteration} ${SUMMARY_TRIGGERS.insert}`);
    expect(await detectMediaUsageSummary(knex)).toBe(false);
    expect((await verifyMediaUsageSummary(knex)).missingTriggers).toEqual([
      SUMMARY_TRIGGERS.insert,
    ]);
    await knex.raw(`ALTER TABLE local_media_repository ENABLE TRIGGER ${SUMMARY_TRIGGERS.insert}`);
    expect(await detectMediaUsageSummary(knex)).toBe(true);
  });

  test("install and uninstall refuse a transaction: they need their own", async () => {
    await knex.transaction(async (trx) => {
      await expect(installMediaUsageSummary(trx)).rejects.toThrow(TypeError);
      await expect(uninstallMediaUsageSummary(trx)).rejects.toThrow(TypeError);
    });
    expect(await detectMediaUsageSummary(knex)).toBe(false);
  });
});

describe("the summary and PostgreSQL roles", () => {
  const suffix = randomBytes(4).toString("hex");
  const roles = {
    owner: `sas_owner_${suffix}`,
    writer: `sas_writer_${suffix}`,
    reader: `sas_reader_${suffix}`,
    stranger: `sas_stranger_${suffix}`,
  };
  const password = "role-password";
  let database: TestDatabase;
  let knex: Knex;
  const connectAs = (role: string): Knex => {
    const url = new URL(database.url ?? "");
    url.username = role;
    url.password = password;
    return openPostgres(url.toString(), { min: 0, max: 2 });
  };

  beforeAll(async () => {
    database = await openTestDatabase("postgres");
    knex = database.knex;
    for (const role of Object.values(roles)) {
      await knex.raw(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      await knex.raw(
        `GRANT CONNECT ON DATABASE ${new URL(database.url ?? "").pathname.slice(1)} TO ${role}`,
      );
      await knex.raw(`GRANT USAGE ON SCHEMA public TO ${role}`);
    }
    // Synapse's role owns its tables; another role may write media, a third only reads.
    for (const table of STORAGE_SOURCE_TABLES) {
      await knex.raw(`ALTER TABLE ${table} OWNER TO ${roles.owner}`);
      await knex.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${roles.writer}`);
      await knex.raw(`GRANT SELECT ON ${table} TO ${roles.reader}`);
    }
  });
  afterAll(async () => {
    await database.close();
    const admin = openPostgres(process.env.TEST_PG_URL ?? "", { min: 0, max: 1 });
    try {
      for (const role of Object.values(roles)) await admin.raw(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await admin.destroy();
    }
  });

  test("installed by a superuser, the summary belongs to the media table's owner and works for every role of it", async () => {
    await installMediaUsageSummary(knex);
    const owner = await knex.raw<{ rows: Array<{ owner: string }> }>(
      "SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = ?::regclass",
      [MEDIA_USAGE_SUMMARY_TABLE],
    );
    expect(owner.rows[0]?.owner).toBe(roles.owner);
    const grants = await knex.raw<{ rows: Array<{ grantee: string; privileges: string }> }>(
      `SELECT grantee, string_agg(privilege_type, ',' ORDER BY privilege_type) AS privileges
         FROM information_schema.role_table_grants
        WHERE table_name = ? AND grantee IN (?, ?, ?)
        GROUP BY grantee`,
      [MEDIA_USAGE_SUMMARY_TABLE, roles.writer, roles.reader, roles.stranger],
    );
    // The writer may not TRUNCATE the media table, so it may not truncate the summary either.
    expect(Object.fromEntries(grants.rows.map((row) => [row.grantee, row.privileges]))).toEqual({
      [roles.writer]: "DELETE,INSERT,SELECT,UPDATE",
      [roles.reader]: "SELECT",
    });

    const asOwner = connectAs(roles.owner);
    const asWriter = connectAs(roles.writer);
    const asReader = connectAs(roles.reader);
    const asStranger = connectAs(roles.stranger);
    try {
      await insertMedia(asOwner, [media("o1", "@u:test", 3)]);
      await insertMedia(asWriter, [media("w1", "@u:test", 4)]);
      await asWriter("local_media_repository").where("media_id", "o1").delete();
      await asWriter.raw(
        "UPDATE local_media_repository SET media_length = 40 WHERE media_id = 'w1'",
      );
      expect(await summaryRowOf(asReader, "@u:test")).toEqual({
        user_id: "@u:test",
        media_count: 1,
        media_length: 40,
      });
      expect(await detectMediaUsageSummary(asReader)).toBe(true);
      // The storage part's triggers work for the writer, and its tables are readable.
      await insertRemoteMedia(asWriter, [
        { media_origin: "w.example", media_id: "r1", created_ts: 5, media_length: 6 },
      ]);
      await asWriter("remote_media_cache").where("media_id", "r1").update({ media_length: 7 });
      expect(
        await asReader("sas_remote_origin_media").select("media_origin", "media_count"),
      ).toEqual([{ media_origin: "w.example", media_count: "1" }]);
      await asWriter("remote_media_cache").where("media_id", "r1").delete();
      expect(await detectStorageSummary(asReader)).toBe(true);
      // A role that may not read the summary must not be told to use it.
      expect(await detectMediaUsageSummary(asStranger)).toBe(false);
      expect(await detectStorageSummary(asStranger)).toBe(false);
      // Synapse's own role can take it away again.
      await uninstallMediaUsageSummary(asOwner);
      expect(await detectMediaUsageSummary(knex)).toBe(false);
    } finally {
      await Promise.all([
        asOwner.destroy(),
        asWriter.destroy(),
        asReader.destroy(),
        asStranger.destroy(),
      ]);
    }
  });

  test("a role that is neither the media table's owner nor a superuser is refused, and nothing is left behind", async () => {
    // Enough to lock the table and create the triggers, not to give the summary to its owner.
    for (const table of STORAGE_SOURCE_TABLES) {
      await knex.raw(`GRANT SELECT, UPDATE, TRIGGER ON ${table} TO ${roles.stranger}`);
    }
    await knex.raw(`GRANT CREATE ON SCHEMA public TO ${roles.stranger}`);
    const asStranger = connectAs(roles.stranger);
    try {
      await expect(installMediaUsageSummary(asStranger)).rejects.toMatchObject({
        reason: "not-permitted",
        message: expect.stringMatching(
          /^must be .*: install as the owner of local_media_repository \(sas_owner_\w+\) or as a superuser$/,
        ),
      });
      expect(
        await knex.raw("SELECT to_regclass(?) AS present", [MEDIA_USAGE_SUMMARY_TABLE]),
      ).toMatchObject({
        rows: [{ present: null }],
      });
    } finally {
      await asStranger.destroy();
      for (const table of STORAGE_SOURCE_TABLES) {
        await knex.raw(`REVOKE SELECT, UPDATE, TRIGGER ON ${table} FROM ${roles.stranger}`);
      }
      await knex.raw(`REVOKE CREATE ON SCHEMA public FROM ${roles.stranger}`);
    }
  });
});
