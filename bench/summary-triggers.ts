// What the opt-in per-user media summary costs and how it behaves at size, on SQLite and
// PostgreSQL side by side: uploads as Synapse makes them (one single-row INSERT per
// transaction) with and without the summary, in alternating blocks so the machine's noise
// falls on both; statements of many media of one user (an import, a purge); the summary
// table's size after the uploads with its autovacuum settings and with PostgreSQL's defaults;
// today's statement-level triggers against the row-level ones of 0.1; and the
// time install takes to backfill millions of media. Prints tables and writes JSON to
// bench-results/.
//
//   npm run bench:triggers [-- --database postgres://user@host/db] [--inserts 100000] ...

import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import knexFactory, { type Knex } from "knex";
import {
  createPostgresDatabase,
  createSynapseSchema,
  openPostgres,
  realisticMediaRows,
  startEmbeddedPostgres,
  type MediaRow,
} from "../fixtures";
import { installMediaUsageSummary, verifyMediaUsageSummary } from "../lib";
import { SUMMARY_STORAGE_PARAMETERS } from "../lib/summary/postgres-summary";
import {
  alternate,
  armResults,
  closeAll,
  log,
  makeArm,
  msSince,
  now,
  openPostgresArm,
  openSqliteArm,
  round,
  timeUploads,
  type Arm,
  type ArmResult,
  type Kind,
} from "./summary-bench-arms";
import {
  report,
  type BackfillResult,
  type FormsSection,
  type InsertSection,
  type Results,
  type SizeResult,
} from "./summary-bench-report";
import { timeBulkStatements, type BulkResult } from "./summary-bench-bulk";
import { createBulkMediaDatabase } from "./summary-bulk-media";
import { useRowLevelTriggers } from "./summary-row-triggers";

interface Options {
  database: string | undefined;
  only: Kind | undefined;
  inserts: number;
  block: number;
  preload: number;
  uploaders: number;
  naptime: number;
  durable: number;
  forms: number;
  bulk: number;
  bulkRowLevel: number;
  bulkRounds: number;
  backfill: Record<Kind, number[]>;
}

const USAGE = `Usage: node dist/bench/summary-triggers.js [options]
  --database <url>          a PostgreSQL server to create (and drop) scratch databases on
                            (default: an embedded PostgreSQL started for the run)
  --only sqlite|postgres    run one database only
  --inserts <n>             single-row inserts per arm (default 100000)
  --block <n>               inserts per alternating block (default 1000)
  --preload <n>             media already there before the inserts (default 200000)
  --uploaders <n>           users of the preloaded and inserted media (default 100000)
  --naptime <s>             autovacuum_naptime of the embedded PostgreSQL (default 10; the
                            server's own with --database)
  --durable <n>             inserts per arm with a durable commit each (default 1000; 0 skips)
  --forms <n>               operations per arm comparing trigger forms (default 5000; 0 skips)
  --bulk <n>                media per statement of one user, without the summary and with
                            today's triggers (default 100000; 0 skips)
  --bulk-row-level <n>      the same, also with the row-level triggers of 0.1, which
                            take time quadratic in it (default 5000; 0 skips)
  --bulk-rounds <n>         rounds of those statements per arm (default 3)
  --backfill-sqlite <list>  media rows to time install at on SQLite (default 1000000)
  --backfill-postgres <list> the same on PostgreSQL (default 1000000,10000000)
`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      database: { type: "string" },
      only: { type: "string" },
      inserts: { type: "string" },
      block: { type: "string" },
      preload: { type: "string" },
      uploaders: { type: "string" },
      naptime: { type: "string" },
      durable: { type: "string" },
      forms: { type: "string" },
      bulk: { type: "string" },
      "bulk-row-level": { type: "string" },
      "bulk-rounds": { type: "string" },
      "backfill-sqlite": { type: "string" },
      "backfill-postgres": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const count = (name: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value))
      throw new TypeError(`--${name} must be a whole number, not "${value}"`);
    return Number(value);
  };
  const list = (name: string, value: string | undefined, fallback: number[]): number[] =>
    value === undefined
      ? fallback
      : value === ""
        ? []
        : value.split(",").map((part) => count(name, part, 0));
  if (values.only !== undefined && values.only !== "sqlite" && values.only !== "postgres") {
    throw new TypeError(`--only must be sqlite or postgres, not "${values.only}"`);
  }
  const options: Options = {
    database: values.database,
    only: values.only,
    inserts: count("inserts", values.inserts, 100_000),
    block: count("block", values.block, 1_000),
    preload: count("preload", values.preload, 200_000),
    uploaders: count("uploaders", values.uploaders, 100_000),
    naptime: count("naptime", values.naptime, 10),
    durable: count("durable", values.durable, 1_000),
    forms: count("forms", values.forms, 5_000),
    bulk: count("bulk", values.bulk, 100_000),
    bulkRowLevel: count("bulk-row-level", values["bulk-row-level"], 5_000),
    bulkRounds: Math.max(1, count("bulk-rounds", values["bulk-rounds"], 3)),
    backfill: {
      sqlite: list("backfill-sqlite", values["backfill-sqlite"], [1_000_000]),
      postgres: list("backfill-postgres", values["backfill-postgres"], [1_000_000, 10_000_000]),
    },
  };
  if (options.block < 1 || options.inserts < options.block)
    throw new TypeError("--inserts must be at least --block, and --block at least 1");
  if (options.preload < options.uploaders)
    throw new TypeError("--preload must be at least --uploaders");
  return options;
}

// ---------------------------------------------------------------------------------------------
// Databases

/** The raw rows of a statement on either driver. */
async function rows<Row>(
  db: Knex,
  kind: Kind,
  sql: string,
  bindings: ReadonlyArray<string | number | null> = [],
): Promise<Row[]> {
  const result: unknown = await db.raw(sql, bindings as Knex.RawBinding[]);
  return kind === "postgres" ? (result as { rows: Row[] }).rows : (result as Row[]);
}

interface PostgresServer {
  url: string;
  version: string;
  naptime: string;
  created: string[];
  stop(): Promise<void>;
}

async function startPostgres(given: string | undefined, naptimeS: number): Promise<PostgresServer> {
  let url = given;
  let stopServer = async () => undefined as void;
  if (url === undefined) {
    log(`starting an embedded PostgreSQL (autovacuum_naptime ${naptimeS} s)`);
    // A short naptime lets autovacuum visit the databases several times during a run of a
    // minute or two, as it would over hours of a real server's uploads.
    const server = await startEmbeddedPostgres({
      stopOnSignals: true,
      postgresFlags: ["-c", `autovacuum_naptime=${naptimeS}`],
    });
    url = server.url;
    stopServer = () => server.stop();
  }
  const admin = openPostgres(url, { min: 0, max: 1 });
  const [info] = await rows<{ version: string; naptime: string }>(
    admin,
    "postgres",
    "SELECT current_setting('server_version') AS version, current_setting('autovacuum_naptime') AS naptime",
  );
  const created: string[] = [];
  return {
    url,
    version: info?.version ?? "unknown",
    naptime: info?.naptime ?? "unknown",
    created,
    async stop() {
      for (const name of created)
        await admin.raw("DROP DATABASE IF EXISTS ?? WITH (FORCE)", [name]);
      await admin.destroy();
      await stopServer();
    },
  };
}

/** A new database on the server, empty or a copy of `template`; dropped when the server stops. */
async function createDatabase(
  server: PostgresServer,
  name: string,
  template?: string,
): Promise<string> {
  const admin = openPostgres(server.url, { min: 0, max: 1 });
  try {
    await admin.raw("DROP DATABASE IF EXISTS ?? WITH (FORCE)", [name]);
  } finally {
    await admin.destroy();
  }
  const url = await createPostgresDatabase(
    server.url,
    name,
    template === undefined ? {} : { template },
  );
  server.created.push(name);
  return url;
}

// ---------------------------------------------------------------------------------------------
// The data: a realistic media table, and the uploads that follow it

interface Workload {
  preload: MediaRow[];
  uploads: MediaRow[];
}

function makeWorkload(options: Options): Workload {
  const all = [
    ...realisticMediaRows({
      seed: 5,
      uploaders: options.uploaders,
      media: options.preload + options.inserts,
      serverName: "bench.example",
    }),
  ];
  return { preload: all.slice(0, options.preload), uploads: all.slice(options.preload) };
}

// Rows handed over as one JSON document per chunk, unpacked by the database: far quicker than
// thousands of multi-row INSERTs built by knex.
const JSON_INSERT: Record<Kind, string> = {
  postgres: `INSERT INTO local_media_repository (media_id, media_type, media_length, created_ts, upload_name, user_id, url_cache)
             SELECT media_id, media_type, media_length, created_ts, upload_name, user_id, url_cache
               FROM json_to_recordset(?::json) AS r(media_id text, media_type text, media_length integer,
                                                    created_ts bigint, upload_name text, user_id text, url_cache text)`,
  sqlite: `INSERT INTO local_media_repository (media_id, media_type, media_length, created_ts, upload_name, user_id, url_cache)
           SELECT value ->> '$.media_id', value ->> '$.media_type', value ->> '$.media_length', value ->> '$.created_ts',
                  value ->> '$.upload_name', value ->> '$.user_id', value ->> '$.url_cache'
             FROM json_each(?)`,
};

async function preload(db: Knex, kind: Kind, media: readonly MediaRow[]): Promise<void> {
  await createSynapseSchema(db);
  for (let start = 0; start < media.length; start += 10_000) {
    await db.raw(JSON_INSERT[kind], [JSON.stringify(media.slice(start, start + 10_000))]);
  }
}

// ---------------------------------------------------------------------------------------------
// Sections

async function summarySize(
  db: Knex,
): Promise<{ bytes: number; autovacuumRuns: number; deadRows: number }> {
  const [row] = await rows<{ bytes: string; runs: string | null; dead: string | null }>(
    db,
    "postgres",
    `SELECT pg_total_relation_size('sas_user_media_usage') AS bytes, s.autovacuum_count AS runs, s.n_dead_tup AS dead
       FROM pg_stat_user_tables s WHERE s.relname = 'sas_user_media_usage'`,
  );
  return {
    bytes: Number(row?.bytes ?? 0),
    autovacuumRuns: Number(row?.runs ?? 0),
    deadRows: Number(row?.dead ?? 0),
  };
}

/** Every figure is of a summary that stayed exact. */
async function checkNoDrift(db: Knex, what: string): Promise<void> {
  const report = await verifyMediaUsageSummary(db);
  if (report.driftedUsers > 0)
    throw new Error(`${what}: the summary drifted (${report.driftedUsers} users)`);
  if (!report.triggersPresent) throw new Error(`${what}: triggers missing`);
}

/** A short run with a durable commit per upload, on arms opened for it (and closed after). */
async function durableUploads(
  options: Options,
  workload: Workload,
  what: string,
  open: () => Promise<Arm[]>,
): Promise<ArmResult[]> {
  if (options.durable === 0) return [];
  log(`${what}: ${options.durable} inserts per arm`);
  const arms = await open();
  try {
    return await timeUploads(
      arms,
      workload.uploads.slice(0, options.durable),
      Math.max(1, Math.floor(options.durable / 10)),
      "durable-",
    );
  } finally {
    await closeAll(arms);
  }
}

/**
 * Two copies of the preloaded SQLite database (`template.db` in `dir`), without and with the
 * summary, as arms at synchronous=NORMAL.
 */
async function sqliteArms(
  dir: string,
  prefix: string,
): Promise<{ files: { none: string; summary: string }; arms: Arm[] }> {
  const files = { none: join(dir, `${prefix}none.db`), summary: join(dir, `${prefix}summary.db`) };
  await copyFile(join(dir, "template.db"), files.none);
  await copyFile(join(dir, "template.db"), files.summary);
  const setup = openSqliteArm(files.summary, "NORMAL");
  await installMediaUsageSummary(setup);
  await setup.destroy();
  const arms = [
    await makeArm("without summary", openSqliteArm(files.none, "NORMAL"), "sqlite"),
    await makeArm("with summary", openSqliteArm(files.summary, "NORMAL"), "sqlite"),
  ];
  return { files, arms };
}

async function insertCostOnSqlite(
  options: Options,
  workload: Workload,
  dir: string,
): Promise<InsertSection> {
  log("SQLite: building the preloaded database");
  const template = join(dir, "template.db");
  const builder = knexFactory({
    client: "sqlite3",
    connection: { filename: template },
    useNullAsDefault: true,
    pool: { min: 1, max: 1 },
  });
  await builder.raw("PRAGMA journal_mode = WAL");
  await preload(builder, "sqlite", workload.preload);
  await builder.destroy();
  const { files, arms } = await sqliteArms(dir, "");
  let inserts: ArmResult[];
  try {
    log(`SQLite: ${options.inserts} inserts per arm (WAL, synchronous=NORMAL)`);
    inserts = await timeUploads(arms, workload.uploads, options.block);
    await checkNoDrift(arms[1]?.db as Knex, "SQLite");
  } finally {
    await closeAll(arms);
  }

  const durable = await durableUploads(
    options,
    workload,
    "SQLite with synchronous=FULL",
    async () => [
      await makeArm(
        "without summary (synchronous=FULL)",
        openSqliteArm(files.none, "FULL"),
        "sqlite",
      ),
      await makeArm(
        "with summary (synchronous=FULL)",
        openSqliteArm(files.summary, "FULL"),
        "sqlite",
      ),
    ],
  );
  return { inserts, durable, sizes: [] };
}

async function insertCostOnPostgres(
  options: Options,
  workload: Workload,
  server: PostgresServer,
  template: string,
): Promise<InsertSection> {
  const urls = {
    none: await createDatabase(server, `${template}_none`, template),
    tuned: await createDatabase(server, `${template}_tuned`, template),
    defaults: await createDatabase(server, `${template}_defaults`, template),
    rowLevel: await createDatabase(server, `${template}_rowlevel`, template),
  };
  const arms = [
    await makeArm("without summary", openPostgresArm(urls.none, false), "postgres"),
    await makeArm("with summary", openPostgresArm(urls.tuned, false), "postgres"),
    await makeArm(
      "with summary, default autovacuum",
      openPostgresArm(urls.defaults, false),
      "postgres",
    ),
    await makeArm(
      "with summary, row-level triggers (0.1)",
      openPostgresArm(urls.rowLevel, false),
      "postgres",
    ),
  ];
  const [, tuned, defaults, rowLevel] = arms as [Arm, Arm, Arm, Arm];
  let inserts: ArmResult[];
  const sizes: SizeResult[] = [];
  try {
    await installMediaUsageSummary(tuned.db);
    await installMediaUsageSummary(defaults.db);
    await installMediaUsageSummary(rowLevel.db);
    await useRowLevelTriggers(rowLevel.db);
    await defaults.db.raw(
      `ALTER TABLE sas_user_media_usage RESET (${Object.keys(SUMMARY_STORAGE_PARAMETERS).join(", ")})`,
    );
    for (const arm of arms) await arm.db.raw("VACUUM ANALYZE");
    const before = { tuned: await summarySize(tuned.db), defaults: await summarySize(defaults.db) };

    log(`PostgreSQL: ${options.inserts} inserts per arm (synchronous_commit=off)`);
    inserts = await timeUploads(arms, workload.uploads, options.block);
    const after = { tuned: await summarySize(tuned.db), defaults: await summarySize(defaults.db) };
    await checkNoDrift(tuned.db, "PostgreSQL");
    await checkNoDrift(defaults.db, "PostgreSQL (default autovacuum)");
    await checkNoDrift(rowLevel.db, "PostgreSQL (row-level triggers)");
    const size = (
      settings: string,
      from: typeof before.tuned,
      to: typeof before.tuned,
    ): SizeResult => ({
      settings,
      bytesBefore: from.bytes,
      bytesAfter: to.bytes,
      autovacuumRuns: to.autovacuumRuns - from.autovacuumRuns,
      deadRows: to.deadRows,
    });
    sizes.push(
      size(
        Object.entries(SUMMARY_STORAGE_PARAMETERS)
          .map(([name, value]) => `${name}=${value}`)
          .join(", "),
        before.tuned,
        after.tuned,
      ),
      size("PostgreSQL's defaults", before.defaults, after.defaults),
    );
  } finally {
    await closeAll(arms);
  }

  const durable = await durableUploads(
    options,
    workload,
    "PostgreSQL with synchronous_commit=on",
    async () => [
      await makeArm(
        "without summary (synchronous_commit=on)",
        openPostgresArm(urls.none, true),
        "postgres",
      ),
      await makeArm(
        "with summary (synchronous_commit=on)",
        openPostgresArm(urls.tuned, true),
        "postgres",
      ),
    ],
  );
  return { inserts, durable, sizes };
}

/**
 * Three copies of the preloaded database side by side: without the summary, with today's
 * statement-level triggers, and with the row-level triggers of 0.1; vacuumed and analysed.
 */
async function triggerFormArms(
  server: PostgresServer,
  template: string,
  tag: string,
): Promise<[Arm, Arm, Arm]> {
  const arm = async (name: string, suffix: string) =>
    makeArm(
      name,
      openPostgresArm(
        await createDatabase(server, `${template}_${tag}_${suffix}`, template),
        false,
      ),
      "postgres",
    );
  const arms: [Arm, Arm, Arm] = [
    await arm("without summary", "none"),
    await arm("statement-level", "stmt"),
    await arm("row-level (0.1)", "row"),
  ];
  const [, statement, row] = arms;
  await installMediaUsageSummary(statement.db);
  await installMediaUsageSummary(row.db);
  await useRowLevelTriggers(row.db);
  for (const each of arms) await each.db.raw("VACUUM ANALYZE");
  return arms;
}

async function triggerFormsOnPostgres(
  options: Options,
  workload: Workload,
  server: PostgresServer,
  template: string,
): Promise<FormsSection> {
  const arms = await triggerFormArms(server, template, "f");
  const [, statement, row] = arms;
  try {
    // Ten blocks an arm, however many operations: fewer would leave the median to chance.
    const block = Math.max(1, Math.floor(options.forms / 10));
    const blocks = Math.floor(options.forms / block);

    log(`PostgreSQL trigger forms: ${options.forms} single-row inserts per arm`);
    const inserts = await timeUploads(
      arms,
      workload.uploads.slice(0, options.forms),
      block,
      "form-",
    );

    // Synapse records when media were last read: one UPDATE of last_access_ts per medium.
    log(`PostgreSQL trigger forms: ${options.forms} last_access_ts updates per arm`);
    for (const arm of arms) arm.blocks = [];
    const ids = workload.preload.map((media) => media.media_id);
    await alternate(arms, blocks, async (arm, index) => {
      const start = now();
      for (let i = index * block; i < (index + 1) * block; i++) {
        await arm.exec("UPDATE local_media_repository SET last_access_ts = ? WHERE media_id = ?", [
          i,
          ids[(i * 7919) % ids.length] as string,
        ]);
      }
      return msSince(start);
    });
    const accessUpdates = armResults(arms, block);

    // An admin's purge of old media: many rows in one statement.
    log(`PostgreSQL trigger forms: one DELETE of ${options.forms} media per arm`);
    const purge: FormsSection["purge"] = [];
    for (const arm of arms) {
      const start = now();
      await arm.exec(
        "DELETE FROM local_media_repository WHERE media_id IN (SELECT media_id FROM local_media_repository ORDER BY media_id LIMIT ?)",
        [options.forms],
      );
      purge.push({ arm: arm.name, rows: options.forms, ms: round(msSince(start), 1) });
    }
    await checkNoDrift(row.db, "row-level triggers");
    await checkNoDrift(statement.db, "statement-level triggers");
    return { inserts, accessUpdates, purge };
  } finally {
    await closeAll(arms);
  }
}

async function bulkOnPostgres(
  options: Options,
  server: PostgresServer,
  template: string,
): Promise<BulkResult[]> {
  const arms = await triggerFormArms(server, template, "b");
  const [none, statement, row] = arms;
  try {
    const results: BulkResult[] = [];
    if (options.bulkRowLevel > 0) {
      log(`PostgreSQL: statements of ${options.bulkRowLevel} media of one user, three arms`);
      results.push(
        ...(await timeBulkStatements(arms, "postgres", options.bulkRowLevel, options.bulkRounds)),
      );
    }
    if (options.bulk > 0) {
      log(`PostgreSQL: statements of ${options.bulk} media of one user, without the row-level arm`);
      results.push(
        ...(await timeBulkStatements(
          [none, statement],
          "postgres",
          options.bulk,
          options.bulkRounds,
        )),
      );
    }
    await checkNoDrift(statement.db, "PostgreSQL bulk statements");
    await checkNoDrift(row.db, "PostgreSQL bulk statements (row-level triggers)");
    return results;
  } finally {
    await closeAll(arms);
  }
}

async function bulkOnSqlite(options: Options, dir: string): Promise<BulkResult[]> {
  const { arms } = await sqliteArms(dir, "bulk-");
  try {
    const results: BulkResult[] = [];
    // Two sizes: SQLite's row-level triggers update the row in place, so the time per medium
    // should not grow with the statement.
    for (const rows of [options.bulkRowLevel, options.bulk].filter((size) => size > 0)) {
      log(`SQLite: statements of ${rows} media of one user`);
      results.push(...(await timeBulkStatements(arms, "sqlite", rows, options.bulkRounds)));
    }
    await checkNoDrift(arms[1]?.db as Knex, "SQLite bulk statements");
    return results;
  } finally {
    await closeAll(arms);
  }
}

async function backfill(
  kind: Kind,
  rowsWanted: number,
  open: () => Promise<{ db: Knex; close(): Promise<void> }>,
): Promise<BackfillResult> {
  const { db, close } = await open();
  try {
    log(`${kind}: generating ${rowsWanted} media rows for the backfill`);
    let start = now();
    await createBulkMediaDatabase(db, {
      rows: rowsWanted,
      uploaders: Math.max(1, Math.round(rowsWanted / (rowsWanted >= 5_000_000 ? 100 : 50))),
    });
    const generateS = msSince(start) / 1000;
    log(`${kind}: install (backfill) over ${rowsWanted} media rows`);
    start = now();
    const { users, media } = await installMediaUsageSummary(db);
    const installS = msSince(start) / 1000;
    start = now();
    await checkNoDrift(db, `${kind} backfill`);
    const verifyS = msSince(start) / 1000;
    const summaryBytes = kind === "postgres" ? (await summarySize(db)).bytes : null;
    return {
      database: kind,
      mediaRows: media,
      users,
      generateS: round(generateS, 1),
      installS: round(installS, 2),
      verifyS: round(verifyS, 2),
      summaryBytes,
    };
  } finally {
    await close();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const kinds: Kind[] = options.only ? [options.only] : ["sqlite", "postgres"];
  const results: Results = {
    startedAt: new Date().toISOString(),
    environment: { node: process.version, cores: availableParallelism() },
    options,
    inserts: {},
    bulk: [],
    backfill: [],
  };
  const started = now();
  log("generating the workload");
  const workload = makeWorkload(options);
  const dir = await mkdtemp(join(tmpdir(), "sas-bench-summary-"));
  let server: PostgresServer | undefined;
  try {
    if (kinds.includes("sqlite")) {
      const probe = knexFactory({
        client: "sqlite3",
        connection: { filename: ":memory:" },
        useNullAsDefault: true,
      });
      results.environment.sqliteVersion =
        (await rows<{ version: string }>(probe, "sqlite", "SELECT sqlite_version() AS version"))[0]
          ?.version ?? "unknown";
      await probe.destroy();
      results.inserts.sqlite = await insertCostOnSqlite(options, workload, dir);
      results.bulk.push(...(await bulkOnSqlite(options, dir)));
      for (const size of options.backfill.sqlite) {
        results.backfill.push(
          await backfill("sqlite", size, async () => {
            const file = join(dir, `backfill-${size}.db`);
            const db = knexFactory({
              client: "sqlite3",
              connection: { filename: file },
              useNullAsDefault: true,
              pool: { min: 1, max: 1 },
            });
            return {
              db,
              close: async () => {
                await db.destroy();
                await rm(file, { force: true });
              },
            };
          }),
        );
      }
    }
    if (kinds.includes("postgres")) {
      server = await startPostgres(options.database, options.naptime);
      results.environment.postgresVersion = server.version;
      results.environment.postgresNaptime = server.naptime;
      const pgServer = server;
      const template = `sas_bench_${process.pid}`;
      log("PostgreSQL: building the preloaded database");
      const templateDb = openPostgres(await createDatabase(pgServer, template), { min: 0, max: 1 });
      await preload(templateDb, "postgres", workload.preload);
      await templateDb.raw("VACUUM ANALYZE");
      await templateDb.destroy();
      results.inserts.postgres = await insertCostOnPostgres(options, workload, pgServer, template);
      if (options.forms > 0)
        results.forms = await triggerFormsOnPostgres(options, workload, pgServer, template);
      results.bulk.push(...(await bulkOnPostgres(options, pgServer, template)));
      for (const size of options.backfill.postgres) {
        results.backfill.push(
          await backfill("postgres", size, async () => {
            const db = openPostgres(
              await createDatabase(pgServer, `${template}_backfill_${size}`),
              { min: 0, max: 2 },
            );
            return { db, close: () => db.destroy() };
          }),
        );
      }
    }
  } finally {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  results.environment.totalS = round(msSince(started) / 1000, 0);
  const text = report(results);
  process.stdout.write(`${text}\n`);
  const folder = resolve(__dirname, "..", "..", "bench-results");
  await mkdir(folder, { recursive: true });
  const file = join(folder, `summary-triggers-${results.startedAt.replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify({ ...results, table: text }, null, 2)}\n`);
  log(`written ${file} (${results.environment.totalS} s in all)`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `[bench] failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
