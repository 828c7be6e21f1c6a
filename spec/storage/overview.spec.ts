// The storage overview: its media figures against the oracle, to the byte, on every database
// variant (a SELECT-only role included), the rules behind each figure on rows made for them,
// and the database sizes against what the database itself and the file system say.

import { statSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv from "ajv";
import type { Knex } from "knex";
import request from "supertest";
import {
  createScratchPostgres,
  createSynapseSchema,
  insertAccounts,
  insertMedia,
  insertRemoteMedia,
  insertRemoteThumbnails,
  insertStorageDataset,
  openSqlite,
  randomStorageDataset,
  STANDARD_ACCOUNTS,
  STANDARD_TOKENS,
} from "../../fixtures";
import { storageOverviewResponseSchema } from "../../lib/storage-responses";
import type { StorageOverview } from "../../lib/storage-types";
import { createTestApp } from "../helpers/app";
import { DATABASE_VARIANTS, postgresServerUrl, useTestDatabase } from "../helpers/databases";
import { STORAGE_OVERVIEW } from "../helpers/paths";
import { expectedMediaOverview, lastMonths } from "../helpers/storage-oracle";

const validOverview = new Ajv({ strict: false }).compile(storageOverviewResponseSchema);

async function overviewOf(
  knex: Knex,
  options: { stateKnex?: Knex } = {},
): Promise<StorageOverview> {
  const res = await request(createTestApp({ knex, ...options }))
    .get(STORAGE_OVERVIEW)
    .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
  expect(res.status).toBe(200);
  expect(validOverview(res.body)).toBe(true);
  return res.body as StorageOverview;
}

/** The path of every number (and null) in the document, with `[]` for array elements. */
function leafPaths(value: unknown, path = "", into = new Map<string, "number" | "null">()) {
  if (Array.isArray(value)) {
    for (const item of value) leafPaths(item, `${path}[]`, into);
  } else if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      leafPaths(child, path === "" ? key : `${path}.${key}`, into);
    }
  } else if (typeof value === "number") {
    into.set(path, "number");
  } else if (value === null && !into.has(path)) {
    into.set(path, "null");
  }
  return into;
}

describe.each(DATABASE_VARIANTS)("storage overview on $name", (variant) => {
  const seededAt = Date.now();
  const dataset = randomStorageDataset({ seed: 909, now: seededAt });
  const db = useTestDatabase(variant, (knex) => insertStorageDataset(knex, dataset));

  test("local and remote media figures equal the oracle's, to the byte", async () => {
    const overview = await overviewOf(db.current.knex);
    // The oracle's months come from the answer's own instant, should a month turn meanwhile.
    const expected = expectedMediaOverview(dataset, overview.generated_at);
    expect(overview.local_media).toEqual(expected.local_media);
    expect(overview.remote_media).toEqual(expected.remote_media);
  });

  test("the data set holds what the oracle must get right", () => {
    expect(dataset.local.some((row) => row.media_length === null)).toBe(true);
    expect(dataset.local.some((row) => row.created_ts === null)).toBe(true);
    expect(dataset.local.some((row) => row.quarantined_by != null)).toBe(true);
    expect(dataset.local.some((row) => row.url_cache != null)).toBe(true);
    expect(dataset.remote.some((row) => row.media_origin === null)).toBe(true);
    expect(dataset.remote.some((row) => row.quarantined_by != null)).toBe(true);
    expect(new Set(dataset.local.map((row) => row.media_type)).size).toBeGreaterThan(10);
  });

  test("generated_at is the time of reading, and the months end with its month", async () => {
    const before = Date.now();
    const overview = await overviewOf(db.current.knex);
    expect(overview.generated_at).toBeGreaterThanOrEqual(before);
    expect(overview.generated_at).toBeLessThanOrEqual(Date.now());
    expect(overview.local_media.monthly.map((month) => month.month)).toEqual(
      lastMonths(overview.generated_at),
    );
  });

  test("every figure says whether it is exact, and every accuracy names a figure", async () => {
    const overview = await overviewOf(db.current.knex);
    const { accuracy, generated_at: _instant, ...document } = overview;
    const leaves = leafPaths(document);
    for (const [path, kind] of leaves) {
      if (kind === "number") {
        expect({ path, accuracy: accuracy[path] }).toEqual({ path, accuracy: expect.any(String) });
      }
    }
    for (const path of Object.keys(accuracy)) {
      expect({ path, present: leaves.has(path) }).toEqual({ path, present: true });
    }
  });

  test("media figures are exact; table rows are estimated on PostgreSQL and counted on SQLite", async () => {
    const { accuracy } = await overviewOf(db.current.knex);
    expect(accuracy["local_media.bytes"]).toBe("exact");
    expect(accuracy["remote_media.origins"]).toBe("exact");
    expect(accuracy["database.main.size_bytes"]).toBe("exact");
    expect(accuracy["database.main.largest_tables[].rows"]).toBe(
      variant.kind === "postgres" ? "estimated" : "exact",
    );
  });
});

describe.each(["sqlite", "postgres"] as const)("storage overview rules on %s", (kind) => {
  const now = Date.now();
  const month = (back: number, day = 1): number => {
    const date = new Date(now);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - back, day);
  };
  const db = useTestDatabase(kind, async (knex) => {
    await insertMedia(knex, [
      { media_id: "known", user_id: "@a:test", media_length: 1000, created_ts: month(0, 2) },
      {
        media_id: "unknown-length",
        user_id: "@a:test",
        media_length: null,
        created_ts: month(0, 2),
      },
      { media_id: "no-time", user_id: "@a:test", media_length: 7, created_ts: null },
      {
        media_id: "quarantined",
        user_id: null,
        media_length: 50,
        created_ts: month(3),
        quarantined_by: "@admin:test",
        media_type: null,
      },
      {
        media_id: "preview",
        user_id: "@a:test",
        media_length: 300,
        created_ts: month(23),
        url_cache: "https://example.com/",
        media_type: "text/html",
      },
      // The last millisecond before the window, and the first after it.
      { media_id: "too-old", user_id: "@a:test", media_length: 11, created_ts: month(23) - 1 },
      { media_id: "too-new", user_id: "@a:test", media_length: 13, created_ts: month(-1) },
    ]);
    await insertRemoteMedia(knex, [
      { media_origin: "b.example", media_id: "x", media_length: 5, created_ts: month(1) },
      { media_origin: "a.example", media_id: "x", media_length: 6, created_ts: month(1) },
      { media_origin: null, media_id: "y", media_length: 8, created_ts: month(1) },
    ]);
    await insertRemoteThumbnails(knex, [
      {
        media_origin: "a.example",
        media_id: "x",
        thumbnail_width: 32,
        thumbnail_height: 32,
        thumbnail_type: "image/png",
        thumbnail_method: "crop",
        thumbnail_length: null,
      },
    ]);
  });

  test("a media of unknown length is counted, as 0 bytes", async () => {
    const { local_media } = await overviewOf(db.current.knex);
    expect(local_media.count).toBe(7);
    expect(local_media.bytes).toBe(1000 + 7 + 50 + 300 + 11 + 13);
    expect(local_media.monthly.at(-1)).toEqual({
      month: lastMonths(now).at(-1),
      count: 2,
      bytes: 1000,
    });
  });

  test("months with no uploads are listed as zeros, oldest first", async () => {
    const { local_media, remote_media } = await overviewOf(db.current.knex);
    expect(local_media.monthly).toHaveLength(24);
    expect(
      local_media.monthly.filter((entry) => entry.count > 0).map((entry) => entry.month),
    ).toEqual([lastMonths(now)[0], lastMonths(now)[20], lastMonths(now)[23]]);
    expect(local_media.monthly[1]).toEqual({ month: lastMonths(now)[1], count: 0, bytes: 0 });
    expect(remote_media.monthly.filter((entry) => entry.count > 0)).toEqual([
      { month: lastMonths(now)[22], count: 3, bytes: 19 },
    ]);
  });

  test("media without created_ts or outside the 24 months are in no month, but in the totals", async () => {
    const { local_media } = await overviewOf(db.current.knex);
    const inMonths = local_media.monthly.reduce((sum, entry) => sum + entry.count, 0);
    expect(inMonths).toBe(local_media.count - 3);
  });

  test("quarantined media and URL previews are counted apart, and in the totals", async () => {
    const { local_media } = await overviewOf(db.current.knex);
    expect(local_media.quarantined).toEqual({ count: 1, bytes: 50 });
    expect(local_media.url_cache).toEqual({ count: 1, bytes: 300 });
  });

  test("media without a content type are listed as content type null", async () => {
    const { local_media } = await overviewOf(db.current.knex);
    expect(local_media.content_types).toContainEqual({ content_type: null, count: 1, bytes: 50 });
    expect(local_media.content_types[0]).toEqual({
      content_type: "image/png",
      count: 5,
      bytes: 1031,
    });
  });

  test("a remote media without an origin counts in the totals but belongs to no origin", async () => {
    const { remote_media } = await overviewOf(db.current.knex);
    expect(remote_media.count).toBe(3);
    expect(remote_media.bytes).toBe(19);
    expect(remote_media.origins).toBe(2);
    expect(remote_media.thumbnails).toEqual({ count: 1, bytes: 0 });
  });
});

describe.each(["sqlite", "postgres"] as const)("an empty database on %s", (kind) => {
  const db = useTestDatabase(kind);

  test("answers zeros, 24 months of zeros and no content types", async () => {
    const overview = await overviewOf(db.current.knex);
    const none = { count: 0, bytes: 0 };
    const months = lastMonths(overview.generated_at).map((month) => ({ month, ...none }));
    expect(overview.local_media).toEqual({
      ...none,
      quarantined: none,
      thumbnails: none,
      url_cache: none,
      content_types: [],
      monthly: months,
    });
    expect(overview.remote_media).toEqual({
      ...none,
      quarantined: none,
      thumbnails: none,
      origins: 0,
      content_types: [],
      monthly: months,
    });
    expect(overview.database.main.size_bytes).toBeGreaterThan(0);
  });
});

describe("database size on PostgreSQL", () => {
  const db = useTestDatabase("postgres", async (knex) => {
    await knex.raw("CREATE TABLE big_blobs (id INTEGER PRIMARY KEY, payload TEXT)");
    // Incompressible text longer than a page: it goes to TOAST.
    await knex.raw(
      "INSERT INTO big_blobs SELECT i, (SELECT string_agg(md5(i::text || j::text), '') FROM generate_series(1, 200) AS j) FROM generate_series(1, 2000) AS i",
    );
    // Vacuumed now, so that autovacuum adds no fork between two readings of the size.
    await knex.raw("VACUUM ANALYZE");
  });

  test("the size is pg_database_size, and the largest tables are the admin's query's", async () => {
    const overview = await overviewOf(db.current.knex);
    const size = await db.current.admin.raw<{ rows: Array<{ bytes: string }> }>(
      "SELECT pg_database_size(current_database()) AS bytes",
    );
    expect(overview.database.engine).toBe("postgresql");
    expect(overview.database.main.size_bytes).toBe(Number(size.rows[0]?.bytes));
    // Synapse's useful_sql_for_admins.md, less its sequences: the same tables, the same order.
    const admins = await db.current.admin.raw<{ rows: Array<{ relation: string; total: string }> }>(
      `SELECT nspname || '.' || relname AS relation, pg_total_relation_size(c.oid) AS total
         FROM pg_class c LEFT JOIN pg_namespace n ON (n.oid = c.relnamespace)
        WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND c.relkind = 'r'
          AND nspname !~ '^pg_toast'
        ORDER BY pg_total_relation_size(c.oid) DESC, 1 LIMIT 20`,
    );
    const tables = overview.database.main.largest_tables ?? [];
    expect(tables.map((table) => [`${table.schema}.${table.table}`, table.total_bytes])).toEqual(
      admins.rows.map((row) => [row.relation, Number(row.total)]),
    );
  });

  test("a table's bytes are its own, its indexes' and its TOAST's, and add up", async () => {
    const overview = await overviewOf(db.current.knex);
    const big = overview.database.main.largest_tables?.[0];
    expect(big?.table).toBe("big_blobs");
    expect(big?.toast_bytes).toBeGreaterThan(1_000_000);
    expect(big?.index_bytes).toBeGreaterThan(0);
    expect((big?.table_bytes ?? 0) + (big?.index_bytes ?? 0) + (big?.toast_bytes ?? 0)).toBe(
      big?.total_bytes,
    );
    expect(big?.rows).toBe(2000);
  });

  test("the state database, when split off, is reported apart", async () => {
    const state = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_state" });
    try {
      await state.knex.raw("CREATE TABLE state_groups_state (state_group BIGINT, room_id TEXT)");
      const overview = await overviewOf(db.current.knex, { stateKnex: state.knex });
      expect(overview.database.state?.largest_tables?.map((table) => table.table)).toEqual([
        "state_groups_state",
      ]);
      expect(overview.database.state?.size_bytes).toBeGreaterThan(0);
      expect(overview.accuracy["database.state.size_bytes"]).toBe("exact");
      expect((await overviewOf(db.current.knex)).database.state).toBeNull();
    } finally {
      await state.drop();
    }
  });
});

describe("database size on SQLite", () => {
  const dir = mkdtempSync(join(tmpdir(), "sas-size-"));
  const file = join(dir, "synapse.sqlite");
  let knex: Knex;
  beforeAll(async () => {
    knex = openSqlite(file);
    await createSynapseSchema(knex);
    await insertAccounts(knex, STANDARD_ACCOUNTS);
    await insertStorageDataset(knex, randomStorageDataset({ seed: 5, now: Date.now() }));
  });
  afterAll(async () => {
    await knex.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the size is the file's, page_count × page_size", async () => {
    const overview = await overviewOf(knex);
    expect(overview.database.engine).toBe("sqlite");
    expect(overview.database.main.size_bytes).toBe(statSync(file).size);
  });

  test("tables, with their indexes, account for every page in use", async () => {
    const overview = await overviewOf(knex);
    const tables = overview.database.main.largest_tables ?? [];
    const [pages] = await knex.raw<Array<{ page_size: number; freelist: number }>>(
      "SELECT s.page_size, f.freelist_count AS freelist FROM pragma_page_size() AS s, pragma_freelist_count() AS f",
    );
    const pageSize = pages?.page_size ?? 0;
    // The schema table's own pages belong to no table.
    const [schema] = await knex.raw<Array<{ bytes: number }>>(
      "SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name IN ('sqlite_schema', 'sqlite_master')",
    );
    const used = tables.reduce((sum, table) => sum + table.total_bytes, 0) + (schema?.bytes ?? 0);
    expect(tables.length).toBeLessThan(20);
    expect(used + (pages?.freelist ?? 0) * pageSize).toBe(overview.database.main.size_bytes);
  });

  test("table rows are exact, and SQLite's lack of TOAST is said plainly", async () => {
    const overview = await overviewOf(knex);
    for (const table of overview.database.main.largest_tables ?? []) {
      const [counted] = await knex.raw<Array<{ rows: number }>>(
        `SELECT COUNT(*) AS rows FROM "${table.table}"`,
      );
      expect({ table: table.table, rows: table.rows }).toEqual({
        table: table.table,
        rows: counted?.rows,
      });
      expect(table.toast_bytes).toBeNull();
    }
    expect(overview.accuracy["database.main.largest_tables[].toast_bytes"]).toBe("unavailable");
    expect(overview.notes.join(" ")).toMatch(/SQLite has no TOAST/);
    expect(overview.notes.join(" ")).toMatch(/write-ahead log/);
  });
});
