// `synapse-admin-statistics report`, spawned as an operator runs it, on SQLite and PostgreSQL
// (and as a role with nothing but SELECT): its figures against the oracle and against the SQL
// an admin would paste, to the byte; --json against the endpoints' own answers; what reaches a
// terminal and what reaches a pipe; and that it writes nothing.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import type { Knex } from "knex";
import request from "supertest";
import {
  createRoomTables,
  createScratchPostgres,
  createSynapseSchema,
  insertAccounts,
  insertStorageDataset,
  openSqlite,
  randomStorageDataset,
  seedRooms,
  STANDARD_ACCOUNTS,
  STANDARD_TOKENS,
  type ScratchDatabase,
  type StorageDataset,
} from "../../fixtures";
import { storageReportSchema, type StorageReport } from "../../lib/report-document";
import { formatBytes, formatCount } from "../../lib/cli/report-layout";
import { SECTION_TITLES } from "../../lib/cli/report-text";
import { installMediaUsageSummary } from "../../lib/summary/media-usage-summary";
import { createTestApp } from "../helpers/app";
import { CLI, createSqliteSynapseFile, runCliToEnd, type SqliteSynapseFile } from "../helpers/cli";
import { postgresServerUrl } from "../helpers/databases";
import { expectedUsersMedia } from "../helpers/oracle";
import {
  LARGEST_MEDIA,
  LARGEST_ROOMS,
  REMOTE_ORIGINS,
  STORAGE_OVERVIEW,
  USERS_MEDIA,
} from "../helpers/paths";
import { reportSample, sampleDifferences } from "../helpers/report-sample";
import { expectedMediaOverview, expectedRemoteOrigins } from "../helpers/storage-oracle";
import { TEST_SECRETS } from "../helpers/test-run";

const validReport = new Ajv({ strict: false }).compile(storageReportSchema);
const ESC = "\u001b";
/** Any SGR sequence (colour, bold, dim ...). */
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`);
/** Any escape sequence at all. */
const ESCAPE = new RegExp(ESC);
/** No colour settings from the test's own environment (jest sets FORCE_COLOR in a terminal). */
const PLAIN = { FORCE_COLOR: undefined, NO_COLOR: undefined, TERM: "xterm-256color" };

/**
 * The storage data set, plus uploaders and origins enough for the top ten to leave some out,
 * with ties in bytes at the cut.
 */
function reportDataset(): StorageDataset {
  const dataset = randomStorageDataset({ seed: 4242, now: Date.now() });
  for (let i = 0; i < 14; i++) {
    dataset.local.push({
      media_id: `Lextra${i}`,
      user_id: `@extra${String(i).padStart(2, "0")}:test`,
      media_length: 1_000_000 * (1 + Math.floor(i / 2)),
      created_ts: Date.now() - i * 86_400_000,
    });
    dataset.remote.push({
      media_origin: `extra${String(i).padStart(2, "0")}.example`,
      media_id: `Rextra${i}`,
      media_length: 2_000_000 * (1 + Math.floor(i / 2)),
      created_ts: Date.now() - i * 86_400_000,
    });
  }
  return dataset;
}

/** A database the CLI can open, and an owner's connection to check it with. */
interface ReportDatabase {
  /** What `--database` gets. */
  target: string;
  /** The owner's connection. */
  knex: Knex;
  kind: "sqlite" | "postgres";
  close(): Promise<void>;
}

async function seedPostgres(knex: Knex, dataset: StorageDataset): Promise<void> {
  await createSynapseSchema(knex);
  await insertAccounts(knex, STANDARD_ACCOUNTS);
  await insertStorageDataset(knex, dataset);
  await createRoomTables(knex);
  await seedRooms(knex, { seed: 31, rooms: 25, events: 2_500 });
  // Analysed for the rooms estimate, vacuumed so that nothing changes the sizes meanwhile.
  await knex.raw("VACUUM ANALYZE");
}

async function openReportDatabase(
  variant: Variant,
  dataset: StorageDataset,
): Promise<ReportDatabase> {
  if (variant.kind === "sqlite") {
    const file: SqliteSynapseFile = await createSqliteSynapseFile(async (knex) => {
      await insertStorageDataset(knex, dataset);
      if (variant.summary) await installMediaUsageSummary(knex);
    });
    const knex = openSqlite(file.file);
    return {
      target: file.file,
      knex,
      kind: "sqlite",
      close: async () => {
        await knex.destroy();
        file.remove();
      },
    };
  }
  const scratch: ScratchDatabase = await createScratchPostgres(postgresServerUrl(), {
    prefix: "sas_report",
  });
  await seedPostgres(scratch.knex, dataset);
  if (variant.summary) await installMediaUsageSummary(scratch.knex);
  if (!variant.selectOnlyRole) {
    return { target: scratch.url, knex: scratch.knex, kind: "postgres", close: scratch.drop };
  }
  const role = `${scratch.name}_reader`;
  await scratch.knex.raw(`CREATE ROLE ?? LOGIN PASSWORD '${TEST_SECRETS.readerPassword}'`, [role]);
  await scratch.knex.raw("GRANT CONNECT ON DATABASE ?? TO ??", [scratch.name, role]);
  await scratch.knex.raw("GRANT USAGE ON SCHEMA public TO ??", [role]);
  await scratch.knex.raw("GRANT SELECT ON ALL TABLES IN SCHEMA public TO ??", [role]);
  await scratch.knex.raw("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
  const url = new URL(scratch.url);
  url.username = role;
  url.password = TEST_SECRETS.readerPassword;
  return {
    target: url.toString(),
    knex: scratch.knex,
    kind: "postgres",
    close: async () => {
      await scratch.drop();
      const server = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_cleanup" });
      await server.knex.raw("DROP ROLE IF EXISTS ??", [role]);
      await server.drop();
    },
  };
}

interface Variant {
  name: string;
  kind: "sqlite" | "postgres";
  selectOnlyRole?: boolean;
  summary?: boolean;
}

const VARIANTS: Variant[] = [
  { name: "sqlite", kind: "sqlite" },
  { name: "postgres", kind: "postgres" },
  { name: "postgres as a SELECT-only role", kind: "postgres", selectOnlyRole: true },
  { name: "sqlite with the summary", kind: "sqlite", summary: true },
];

/** How the report names a database: any password in a URL masked, whoever's it is. */
function withPasswordMasked(target: string): string {
  if (!/^postgres(ql)?:/.test(target)) return target;
  const url = new URL(target);
  if (url.password !== "") url.password = "***";
  return url.toString();
}

/** `report --json` on the database: the document, checked against its schema. */
function jsonReport(database: ReportDatabase): StorageReport {
  const result = runCliToEnd(["report", "--database", database.target, "--json"], PLAIN);
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
  const report = JSON.parse(result.stdout) as StorageReport;
  expect(validReport(report)).toBe(true);
  return report;
}

type Row = Record<string, number | string | null>;

/** The SQL an admin would paste for the same figures (Synapse's useful_sql_for_admins style). */
async function adminFigures(knex: Knex, kind: "sqlite" | "postgres") {
  const rows = async (sql: string): Promise<Row[]> => {
    const result: unknown = await knex.raw(sql);
    return kind === "postgres" ? (result as { rows: Row[] }).rows : (result as Row[]);
  };
  const totals = async (table: string, length: string, where = "") => {
    const [row] = await rows(
      `SELECT COUNT(*) AS count, COALESCE(SUM(${length}), 0) AS bytes FROM ${table} ${where}`,
    );
    return { count: Number(row?.count), bytes: Number(row?.bytes) };
  };
  const month =
    kind === "postgres"
      ? "to_char(to_timestamp(created_ts / 1000) AT TIME ZONE 'UTC', 'YYYY-MM')"
      : "strftime('%Y-%m', created_ts / 1000, 'unixepoch')";
  const perMonth = async (table: string) =>
    new Map(
      (
        await rows(
          `SELECT ${month} AS month, COUNT(*) AS count, COALESCE(SUM(media_length), 0) AS bytes
             FROM ${table} WHERE created_ts IS NOT NULL GROUP BY 1`,
        )
      ).map((row) => [String(row.month), { count: Number(row.count), bytes: Number(row.bytes) }]),
    );
  const [origins] = await rows(
    "SELECT COUNT(DISTINCT media_origin) AS origins FROM remote_media_cache",
  );
  const [size] = await rows(
    kind === "postgres"
      ? "SELECT pg_database_size(current_database()) AS bytes"
      : "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()",
  );
  const top = async (sql: string) =>
    (await rows(sql)).map((row) => ({
      name: String(row.name),
      count: Number(row.count),
      bytes: Number(row.bytes),
    }));
  return {
    local: await totals("local_media_repository", "media_length"),
    localQuarantined: await totals(
      "local_media_repository",
      "media_length",
      "WHERE quarantined_by IS NOT NULL",
    ),
    urlPreviews: await totals(
      "local_media_repository",
      "media_length",
      "WHERE url_cache IS NOT NULL",
    ),
    localThumbnails: await totals("local_media_repository_thumbnails", "thumbnail_length"),
    remote: await totals("remote_media_cache", "media_length"),
    remoteQuarantined: await totals(
      "remote_media_cache",
      "media_length",
      "WHERE quarantined_by IS NOT NULL",
    ),
    remoteThumbnails: await totals("remote_media_cache_thumbnails", "thumbnail_length"),
    origins: Number(origins?.origins),
    databaseBytes: Number(size?.bytes),
    localMonths: await perMonth("local_media_repository"),
    remoteMonths: await perMonth("remote_media_cache"),
    topUploaders: await top(
      `SELECT user_id AS name, COUNT(*) AS count, COALESCE(SUM(media_length), 0) AS bytes
         FROM local_media_repository WHERE user_id IS NOT NULL
        GROUP BY user_id ORDER BY 3 DESC, 1 DESC LIMIT 10`,
    ),
    topOrigins: await top(
      `SELECT media_origin AS name, COUNT(*) AS count, COALESCE(SUM(media_length), 0) AS bytes
         FROM remote_media_cache WHERE media_origin IS NOT NULL
        GROUP BY media_origin ORDER BY 3 DESC, 1 DESC LIMIT 10`,
    ),
    largestTables:
      kind === "postgres"
        ? await top(
            `SELECT c.relname AS name, 0 AS count, pg_total_relation_size(c.oid) AS bytes
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind = 'r' AND n.nspname = 'public'
              ORDER BY 3 DESC, 1 LIMIT 20`,
          )
        : undefined,
  };
}

describe.each(VARIANTS)("report on $name", (variant) => {
  const dataset = reportDataset();
  let database: ReportDatabase;
  let report: StorageReport;
  let text: string;
  beforeAll(async () => {
    database = await openReportDatabase(variant, dataset);
    report = jsonReport(database);
    const result = runCliToEnd(["report", "--database", database.target], PLAIN);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
    text = result.stdout;
  }, 120_000);
  afterAll(() => database?.close());

  test("--json figures equal the oracle's, to the byte", () => {
    const expected = expectedMediaOverview(dataset, report.overview.generated_at);
    expect(report.overview.local_media).toEqual(expected.local_media);
    expect(report.overview.remote_media).toEqual(expected.remote_media);
    const uploaders = expectedUsersMedia(
      { media: dataset.local, profiles: [] },
      { order_by: "media_length", dir: "b", limit: 10 },
    );
    expect(report.top_uploaders).toEqual({ users: uploaders.users, total: uploaders.total });
    expect(report.top_uploaders.total).toBeGreaterThan(10);
    const origins = expectedRemoteOrigins(dataset, {
      order_by: "media_length",
      dir: "b",
      limit: 10,
    });
    expect(report.top_origins).toEqual({ origins: origins.origins, total: origins.total });
    expect(report.top_origins.total).toBeGreaterThan(10);
  });

  test("--json figures equal what an admin's own SQL says, to the byte", async () => {
    const admin = await adminFigures(database.knex, database.kind);
    const { local_media: local, remote_media: remote, database: db } = report.overview;
    const totals = (figures: { count: number; bytes: number }) => ({
      count: figures.count,
      bytes: figures.bytes,
    });
    expect(totals(local)).toEqual(admin.local);
    expect(local.quarantined).toEqual(admin.localQuarantined);
    expect(local.url_cache).toEqual(admin.urlPreviews);
    expect(local.thumbnails).toEqual(admin.localThumbnails);
    expect(totals(remote)).toEqual(admin.remote);
    expect(remote.quarantined).toEqual(admin.remoteQuarantined);
    expect(remote.thumbnails).toEqual(admin.remoteThumbnails);
    expect(remote.origins).toBe(admin.origins);
    expect(db.main.size_bytes).toBe(admin.databaseBytes);
    for (const [months, byMonth] of [
      [local.monthly, admin.localMonths],
      [remote.monthly, admin.remoteMonths],
    ] as const) {
      for (const month of months) {
        expect(month).toEqual({
          month: month.month,
          ...(byMonth.get(month.month) ?? { count: 0, bytes: 0 }),
        });
      }
    }
    const asRows = (rows: Array<{ media_count: number; media_length: number }>, names: string[]) =>
      rows.map((row, index) => ({
        name: names[index],
        count: row.media_count,
        bytes: row.media_length,
      }));
    const { users } = report.top_uploaders;
    const { origins } = report.top_origins;
    expect(
      asRows(
        users,
        users.map((user) => user.user_id),
      ),
    ).toEqual(admin.topUploaders);
    expect(
      asRows(
        origins,
        origins.map((origin) => origin.origin),
      ),
    ).toEqual(admin.topOrigins);
    if (admin.largestTables) {
      expect(
        db.main.largest_tables?.map((table) => ({
          name: table.table,
          count: 0,
          bytes: table.total_bytes,
        })),
      ).toEqual(admin.largestTables);
    }
  });

  test("--json holds the endpoints' own answers", async () => {
    const app = createTestApp({ knex: database.knex });
    const get = async (path: string) => {
      const res = await request(app)
        .get(path)
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      return { status: res.status, body: res.body as Record<string, unknown> };
    };
    const overview = await get(STORAGE_OVERVIEW);
    expect(overview.status).toBe(200);
    expect({ ...report.overview, generated_at: 0 }).toEqual({ ...overview.body, generated_at: 0 });
    const { next_token: _users, ...uploaders } = (
      await get(`${USERS_MEDIA}?order_by=media_length&dir=b&limit=10`)
    ).body;
    expect(report.top_uploaders).toEqual(uploaders);
    const { next_token: _origins, ...origins } = (
      await get(`${REMOTE_ORIGINS}?order_by=media_length&dir=b&limit=10`)
    ).body;
    expect(report.top_origins).toEqual(origins);
    const rooms = await get(LARGEST_ROOMS);
    if (database.kind === "postgres") {
      expect(rooms.status).toBe(200);
      expect(report.largest_rooms).toEqual(rooms.body);
      expect(report.largest_rooms?.rooms).toHaveLength(10);
    } else {
      expect(rooms.status).toBe(400);
      expect(report.largest_rooms).toBeNull();
    }
    // Not part of the report, but the same snapshot rules: the largest media still answer.
    expect((await get(`${LARGEST_MEDIA}?limit=1`)).status).toBe(200);
  });

  test("--json says plainly what is unavailable on this database, and why", () => {
    expect(report.source).toEqual({
      database: withPasswordMasked(database.target),
      state_database: null,
    });
    if (database.kind === "sqlite") {
      expect(report.unavailable.map((figure) => figure.figure)).toEqual([
        "largest_rooms",
        "overview.database.main.largest_tables[].toast_bytes",
      ]);
      expect(report.unavailable[0]?.reason).toMatch(/PostgreSQL's planner statistics/);
    } else {
      expect(report.unavailable).toEqual([]);
    }
    expect(JSON.stringify(report)).not.toContain(TEST_SECRETS.readerPassword);
  });

  test("the text shows the same figures, in binary units", () => {
    const row = (name: string, count: number | undefined, bytes: number) =>
      new RegExp(
        `^  ${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} +${count === undefined ? "" : `${formatCount(count)} +`}${formatBytes(bytes).replace(".", "\\.")}( |$)`,
        "m",
      );
    const { local_media: local, remote_media: remote } = report.overview;
    expect(text).toMatch(row("main database", undefined, report.overview.database.main.size_bytes));
    expect(text).toMatch(row("local media", local.count, local.bytes));
    expect(text).toMatch(row("local thumbnails", local.thumbnails.count, local.thumbnails.bytes));
    expect(text).toMatch(
      row(`remote media (${remote.origins} origins)`, remote.count, remote.bytes),
    );
    for (const user of report.top_uploaders.users) {
      expect(text).toMatch(row(user.user_id, user.media_count, user.media_length));
    }
    for (const origin of report.top_origins.origins) {
      expect(text).toMatch(row(origin.origin, origin.media_count, origin.media_length));
    }
    for (const month of [...local.monthly, ...remote.monthly]) {
      expect(text).toMatch(row(month.month, month.count, month.bytes));
    }
    for (const room of report.largest_rooms?.rooms ?? []) {
      expect(text).toMatch(row(room.room_id, undefined, room.estimated_size));
    }
    expect(text).toContain("Sizes in binary units: 1 KiB = 1,024 bytes");
    if (database.kind === "sqlite") {
      expect(text).toMatch(
        /Largest rooms\n {2}Unavailable on SQLite: Synapse's estimate[^]*planner statistics/,
      );
    }
  });

  test("every section is printed, in order, with its bars", () => {
    const titles = Object.values(SECTION_TITLES);
    const found = text
      .split("\n")
      .filter((line) => titles.some((title) => line.startsWith(title)))
      .map((line) => titles.find((title) => line.startsWith(title)));
    expect(found).toEqual(titles);
    expect(text).toMatch(/^ {2}@\S+ +[\d,]+ +[\d.]+ \w?i?B +█+/m);
  });

  // The README shows a run on the demo's SQLite database, docs/report.md one on PostgreSQL.
  const samplePage = ({ sqlite: "README.md", postgres: "docs/report.md" } as const)[
    variant.name as "sqlite" | "postgres"
  ] as string | undefined;
  if (samplePage !== undefined) {
    test(`the run ${samplePage} shows has the shape of this one`, () => {
      const sample = reportSample(samplePage, database.kind);
      expect(sampleDifferences(sample, text)).toEqual([]);
      // Not a sample of nothing: the sections it must show are there.
      expect(sample).toContain(SECTION_TITLES.disk);
      expect(sample).toContain(SECTION_TITLES.origins);
    });
  }

  test("a pipe gets no escape sequence at all, on stdout or stderr", () => {
    expect(text).not.toMatch(ESCAPE);
    const result = runCliToEnd(["report", "--database", database.target], PLAIN);
    expect(result.stderr).toBe("");
    // The same report again, but for the instant it was read at.
    const instant = (output: string) => output.replace(/, read at .* UTC$/m, "");
    expect(instant(result.stdout)).toBe(instant(text));
  });
});

describe("report with a split-off state database (PostgreSQL)", () => {
  const dataset = reportDataset();
  let main: ScratchDatabase;
  let state: ScratchDatabase;
  let report: StorageReport;
  let text: string;
  beforeAll(async () => {
    main = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_report_main" });
    state = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_report_state" });
    await seedPostgres(main.knex, dataset);
    // The state database holds state_groups_state only; the main one's copy is left empty.
    await main.knex.raw("TRUNCATE state_groups_state");
    await createRoomTables(state.knex, { tables: ["state_groups_state"] });
    await seedRooms(state.knex, {
      seed: 31,
      rooms: 25,
      events: 2_500,
      tables: ["state_groups_state"],
    });
    await state.knex.raw("VACUUM ANALYZE");
    await main.knex.raw("VACUUM ANALYZE");
    const args = ["report", "--database", main.url, "--state-database", state.url];
    const json = runCliToEnd([...args, "--json"], PLAIN);
    expect(json.status).toBe(0);
    report = JSON.parse(json.stdout) as StorageReport;
    const plain = runCliToEnd(args, PLAIN);
    expect(plain.status).toBe(0);
    text = plain.stdout;
  }, 120_000);
  afterAll(async () => {
    await main?.drop();
    await state?.drop();
  });

  test("the state database's size, tables and rooms are those the endpoints answer", async () => {
    expect(validReport(report)).toBe(true);
    expect(report.source.state_database).toBe(state.url.replace(/:[^:@/]*@/, ":***@"));
    const app = createTestApp({ knex: main.knex, stateKnex: state.knex });
    const get = (path: string) =>
      request(app).get(path).set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    const overview = (await get(STORAGE_OVERVIEW)).body as StorageReport["overview"];
    expect(overview.database.state).not.toBeNull();
    expect({ ...report.overview, generated_at: 0 }).toEqual({ ...overview, generated_at: 0 });
    const rooms = await get(LARGEST_ROOMS);
    expect(rooms.status).toBe(200);
    expect(report.largest_rooms).toEqual(rooms.body);
  });

  test("the text has the state database's row and its largest tables", () => {
    expect(text).toMatch(/^ {2}state database +[\d.]+ \w?i?B/m);
    expect(text).toContain("Largest tables: state database");
    expect(text).toMatch(/^ {2}state_groups_state +/m);
  });
});

describe("report as a role that may not read a room table", () => {
  let scratch: ScratchDatabase;
  const role = `sas_report_partial_${process.pid}`;
  beforeAll(async () => {
    scratch = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_report_partial" });
    await seedPostgres(scratch.knex, reportDataset());
    await scratch.knex.raw(`CREATE ROLE ?? LOGIN PASSWORD '${TEST_SECRETS.readerPassword}'`, [
      role,
    ]);
    await scratch.knex.raw("GRANT SELECT ON ALL TABLES IN SCHEMA public TO ??", [role]);
    await scratch.knex.raw("REVOKE SELECT ON event_json FROM ??", [role]);
  }, 120_000);
  afterAll(async () => {
    await scratch?.drop();
    const server = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_cleanup" });
    await server.knex.raw("DROP ROLE IF EXISTS ??", [role]);
    await server.drop();
  });

  test("says which table the largest rooms leave out, and what to grant", () => {
    const url = new URL(scratch.url);
    url.username = role;
    url.password = TEST_SECRETS.readerPassword;
    const json = runCliToEnd(["report", "--database", url.toString(), "--json"], PLAIN);
    expect(json.status).toBe(0);
    const message = `largest rooms leave out table public.event_json: role ${role} lacks the SELECT privilege on it, so PostgreSQL hides its planner statistics; grant SELECT on public.event_json to ${role}`;
    expect((JSON.parse(json.stdout) as StorageReport).notes).toEqual([message]);
    const plain = runCliToEnd(["report", "--database", url.toString()], PLAIN);
    expect(plain.stdout.replace(/\s+/g, " ")).toContain(message);
  });
});

describe("report on an empty Synapse database", () => {
  test("prints every section, with none yet where there is nothing, and exits 0", async () => {
    const file = await createSqliteSynapseFile();
    try {
      const result = runCliToEnd(["report", "--database", file.file], PLAIN);
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
      expect(result.stdout).toContain("Top uploaders: local media\n  None yet.");
      expect(result.stdout).toContain("Top origins: remote media\n  None yet.");
      expect(result.stdout).toMatch(/^ {2}local media +0 +0 B$/m);
      const json = runCliToEnd(["report", "--database", file.file, "--json"], PLAIN);
      const report = JSON.parse(json.stdout) as StorageReport;
      expect(validReport(report)).toBe(true);
      expect(report.top_uploaders).toEqual({ users: [], total: 0 });
      expect(report.overview.local_media.monthly.every((month) => month.count === 0)).toBe(true);
    } finally {
      file.remove();
    }
  });
});

describe("report writes nothing", () => {
  test("the SQLite file and its folder are byte for byte the same after a report", async () => {
    const file = await createSqliteSynapseFile((knex) =>
      insertStorageDataset(knex, randomStorageDataset({ seed: 5, now: Date.now() })),
    );
    try {
      const snapshot = () => ({
        files: readdirSync(file.dir).sort(),
        hash: createHash("sha256").update(readFileSync(file.file)).digest("hex"),
      });
      const before = snapshot();
      for (const args of [[], ["--json"]]) {
        const result = runCliToEnd(["report", "--database", file.file, ...args], PLAIN);
        expect(result.status).toBe(0);
      }
      expect(snapshot()).toEqual(before);
    } finally {
      file.remove();
    }
  });
});

describe("colour: NO_COLOR, FORCE_COLOR and terminals", () => {
  let file: SqliteSynapseFile;
  beforeAll(async () => {
    file = await createSqliteSynapseFile((knex) =>
      insertStorageDataset(knex, randomStorageDataset({ seed: 6, now: Date.now() })),
    );
  });
  afterAll(() => file?.remove());

  test.each([
    [{}, false],
    [{ NO_COLOR: "1" }, false],
    [{ FORCE_COLOR: "1" }, true],
    [{ FORCE_COLOR: "" }, true],
    [{ FORCE_COLOR: "0" }, false],
    [{ FORCE_COLOR: "false" }, false],
    [{ FORCE_COLOR: "1", NO_COLOR: "1" }, true],
  ])("into a pipe with %j: colour %s", (env, coloured) => {
    const result = runCliToEnd(["report", "--database", file.file], { ...PLAIN, ...env });
    expect(result.status).toBe(0);
    expect(SGR.test(result.stdout)).toBe(coloured);
    expect(result.stderr).toBe("");
  });

  test("--json is never coloured, even when forced", () => {
    const result = runCliToEnd(["report", "--database", file.file, "--json"], {
      ...PLAIN,
      FORCE_COLOR: "1",
    });
    expect(result.stdout).not.toMatch(ESCAPE);
    expect(() => JSON.parse(result.stdout) as unknown).not.toThrow();
  });

  // A pseudo-terminal from util-linux's `script`, where there is one.
  const script = spawnSync("script", ["--version"], { encoding: "utf8" });
  const inTerminal = script.status === 0 ? test : test.skip;

  /** Runs the CLI with stdout and stderr on a pseudo-terminal: everything it printed. */
  function runInTerminal(args: string[], env: Record<string, string | undefined>) {
    const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;
    const environment: NodeJS.ProcessEnv = { ...process.env };
    for (const [key, value] of Object.entries({ ...PLAIN, ...env })) {
      if (value === undefined) delete environment[key];
      else environment[key] = value;
    }
    const result = spawnSync(
      "script",
      ["-qec", [process.execPath, CLI, ...args].map(quote).join(" "), "/dev/null"],
      { env: environment, encoding: "utf8", timeout: 60_000 },
    );
    return { status: result.status, output: result.stdout };
  }

  inTerminal("on a terminal: colour, and progress on stderr that leaves no trace", () => {
    const { status, output } = runInTerminal(["report", "--database", file.file], {});
    expect(status).toBe(0);
    expect(output).toMatch(SGR);
    expect(output).toContain("report: reading the top uploaders (2/4)…");
    // The progress line is erased before the report begins.
    expect(output).toMatch(new RegExp(`\\r${ESC}\\[2K(${ESC}\\[1m)?Storage report of `));
  });

  inTerminal("on a terminal with NO_COLOR: no colour, progress still shown", () => {
    const { status, output } = runInTerminal(["report", "--database", file.file], {
      NO_COLOR: "1",
    });
    expect(status).toBe(0);
    expect(output).not.toMatch(SGR);
    expect(output).toContain("report: reading");
    expect(output).toContain("Storage report of ");
  });
});

describe("report's errors are one line, with the exit codes of the other commands", () => {
  let file: SqliteSynapseFile;
  beforeAll(async () => {
    file = await createSqliteSynapseFile();
  });
  afterAll(() => file?.remove());

  const oneLine = (result: ReturnType<typeof runCliToEnd>, status: number, message: RegExp) => {
    expect(result.status).toBe(status);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^synapse-admin-statistics: /);
    expect(lines[0]).toMatch(message);
  };

  test("report --help lists its own options, not serve's", () => {
    const result = runCliToEnd(["report", "--help"]);
    expect(result.status).toBe(0);
    for (const option of ["--database", "--state-database", "--json", "NO_COLOR", "KiB"]) {
      expect(result.stdout).toContain(option);
    }
    expect(result.stdout).not.toContain("--listen");
    expect(runCliToEnd(["--help"]).stdout).toContain("report [options]");
  });

  test.each([
    [["report"], /no database: give --database or set DATABASE_URL/],
    [
      ["report", "--database", "mysql://root:secret@db/synapse"],
      /unsupported database URL "mysql:"/,
    ],
    [["report", "--database", "x.db", "--colour"], /Unknown option '--colour'/],
    [
      ["report", "--database", "x.db", "--state-database", "state.db"],
      /--state-database must be a PostgreSQL URL/,
    ],
  ])("%j is a usage error (exit 2)", (args, message) => {
    oneLine(runCliToEnd(args), 2, message);
  });

  test("a file that is not there is exit 1, and not created", () => {
    const missing = join(file.dir, "missing.db");
    oneLine(runCliToEnd(["report", "--database", missing]), 1, /no such readable file/);
    expect(readdirSync(file.dir)).not.toContain("missing.db");
  });

  test("a database without the media tables is exit 1, naming them", async () => {
    const knex = openSqlite(file.file);
    try {
      await knex.raw("DROP TABLE remote_media_cache_thumbnails");
      await knex.raw("DROP TABLE remote_media_cache");
    } finally {
      await knex.destroy();
    }
    oneLine(
      runCliToEnd(["report", "--database", file.file]),
      1,
      /is not a Synapse database: missing tables remote_media_cache, remote_media_cache_thumbnails$/,
    );
  });

  test("PostgreSQL that refuses the connection is exit 1, without the password", () => {
    const result = runCliToEnd([
      "report",
      "--database",
      `postgres://stats:${TEST_SECRETS.urlPassword}@127.0.0.1:1/synapse`,
    ]);
    oneLine(
      result,
      1,
      /cannot connect to postgres:\/\/stats:\*\*\*@127\.0\.0\.1:1\/synapse: connection refused/,
    );
    expect(result.stderr).not.toContain(TEST_SECRETS.urlPassword);
  });

  test("without the PostgreSQL driver: install pg", () => {
    const result = runCliToEnd(["report", "--database", postgresServerUrl()], {
      NODE_OPTIONS: `--require ${join(__dirname, "../helpers/hide-modules.cjs")}`,
      HIDE_MODULES: "pg",
    });
    oneLine(result, 1, /install pg\b.*npm install pg/);
  });
});
