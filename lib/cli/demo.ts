// `demo` (what `npm start` runs): builds a Synapse-shaped database of its own once, with a
// realistic data set, then serves it and prints a token and curl commands ready to paste.

import { randomBytes } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Knex } from "knex";
import type { Logger as PinoLogger } from "pino";
import {
  createPostgresDatabase,
  createRoomTables,
  createSynapseSchema,
  insertAccounts,
  openPostgres,
  openSqlite,
  startEmbeddedPostgres,
  insertRealisticMedia,
  insertRealisticMediaCache,
  pathExists,
  seedRooms,
  withDatabase,
  type RealisticMediaOptions,
  type RealisticRemoteOptions,
} from "../../fixtures";
import { EXTENSION_PREFIX } from "../endpoints/namespace";

import { parseDatabaseTarget, requireDriver, type DatabaseTarget } from "./database";
import type { ListenAddress } from "./listen";
import { MOUNT_PATH, OPENAPI_PATH, serve } from "./serve";

export interface DemoOptions {
  embeddedPostgres: boolean;
  dataDir: string;
  listen: ListenAddress;
  logger: PinoLogger;
  version: string;
}

const DEMO_ADMIN = "@admin:demo.example";
const DAY_MS = 24 * 3600 * 1000;
// Bumped when the demo data changes, so an older demo database is rebuilt.
const DEMO_VERSION = 2;
const DEMO_DATA: Omit<RealisticMediaOptions, "endTs"> = {
  seed: 8008,
  uploaders: 3000,
  media: 40_000,
  serverName: "demo.example",
  spanMs: 2 * 365 * 24 * 3600 * 1000,
};
// About two remote media per local one, from a heavy-tailed set of servers.
const DEMO_REMOTE: Omit<RealisticRemoteOptions, "endTs" | "spanMs"> = {
  seed: 8008,
  media: 80_000,
  origins: 1200,
  quarantinedBy: "@admin:demo.example",
};
const DEMO_DATABASE = "synapse_demo";
const DEMO_ROOMS = { seed: 8008, rooms: 400, events: 100_000, serverName: "demo.example" };

export async function runDemo(options: DemoOptions): Promise<void> {
  // Before anything is built: a missing driver is one line, not a require stack mid-build.
  requireDriver(options.embeddedPostgres ? "postgres" : "sqlite");
  await mkdir(options.dataDir, { recursive: true });
  let stopPostgres: (() => Promise<void>) | undefined;
  let target: DatabaseTarget;
  try {
    if (options.embeddedPostgres) {
      process.stdout.write("Starting the embedded PostgreSQL...\n");
      const server = await startEmbeddedPostgres({
        dataDir: join(options.dataDir, "postgres"),
        persistent: true,
        // The demo stops gracefully on a signal itself, then stops the server.
        stopOnSignals: false,
      });
      stopPostgres = () => server.stop();
      const url = withDatabase(server.url, DEMO_DATABASE);
      await ensurePostgresDemo(server.url, url);
      target = parseDatabaseTarget(url);
    } else {
      const file = join(options.dataDir, "synapse-demo.sqlite");
      await ensureSqliteDemo(file);
      target = parseDatabaseTarget(file);
    }
    const demo = await readDemoInfo(target);
    await serve({
      database: target,
      listen: options.listen,
      statementTimeoutMs: 30_000,
      cors: true,
      logger: options.logger,
      version: options.version,
      onListening: (baseUrl) => printInstructions(baseUrl, demo, target, options.dataDir),
    });
  } finally {
    await stopPostgres?.();
  }
}

async function ensureSqliteDemo(file: string): Promise<void> {
  if (await pathExists(file)) {
    const db = openSqlite(file);
    try {
      if (await isCurrentDemo(db)) return;
    } finally {
      await db.destroy();
    }
  }
  process.stdout.write(`Building the demo database ${file} (once; about a minute)...\n`);
  // Built aside and renamed into place, so an interrupted build is never mistaken for a demo.
  const building = `${file}.building`;
  await rm(building, { force: true });
  const db = openSqlite(building);
  try {
    await seedDemo(db);
  } finally {
    await db.destroy();
  }
  await rename(building, file);
}

async function ensurePostgresDemo(serverUrl: string, url: string): Promise<void> {
  const admin = openPostgres(serverUrl, { min: 0, max: 1 });
  try {
    const found = await admin.raw<{ rows: unknown[] }>(
      "SELECT 1 FROM pg_database WHERE datname = ?",
      [DEMO_DATABASE],
    );
    if (found.rows.length > 0) {
      const db = openPostgres(url);
      const current = await isCurrentDemo(db).finally(() => db.destroy());
      if (current) return;
      await admin.raw("DROP DATABASE ?? WITH (FORCE)", [DEMO_DATABASE]);
    }
  } finally {
    await admin.destroy();
  }
  process.stdout.write("Building the demo database in PostgreSQL (once; about a minute)...\n");
  await createPostgresDatabase(serverUrl, DEMO_DATABASE);
  const db = openPostgres(url);
  try {
    await seedDemo(db, async () => {
      // Rooms only on PostgreSQL: the estimate reads its planner statistics, hence ANALYZE.
      process.stdout.write(
        `  rooms: ${DEMO_ROOMS.rooms} rooms, ${DEMO_ROOMS.events.toLocaleString("en")} events\n`,
      );
      await createRoomTables(db);
      await seedRooms(db, DEMO_ROOMS);
    });
    await db.raw("ANALYZE");
  } finally {
    await db.destroy();
  }
}

/**
 * The demo's own marker: written last, so its presence means a complete demo. It also keeps
 * the instant the data ends at: the build's, so the overview's last months hold uploads.
 */
async function isCurrentDemo(db: Knex): Promise<boolean> {
  try {
    const row = await db("demo_info").first<{ version: number } | undefined>("version");
    return Number(row?.version) === DEMO_VERSION;
  } catch {
    return false;
  }
}

async function seedDemo(
  db: Knex,
  more: () => Promise<void> = async () => undefined,
): Promise<void> {
  await createSynapseSchema(db);
  // Today's start: the uploads of the last two years lead up to the day the demo was built.
  const endTs = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const local: RealisticMediaOptions = { ...DEMO_DATA, endTs };
  const token = `syt_demo_${randomBytes(12).toString("base64url")}`;
  await insertAccounts(db, [
    { userId: DEMO_ADMIN, admin: true, tokens: [{ token }] },
    {
      userId: "@someone:demo.example",
      tokens: [{ token: `syt_user_${randomBytes(12).toString("base64url")}` }],
    },
  ]);
  let reported = 0;
  await insertRealisticMedia(db, local, (rows) => {
    if (rows - reported >= 10_000 || rows === DEMO_DATA.media) {
      reported = rows;
      process.stdout.write(`  ${rows} / ${DEMO_DATA.media} media rows\n`);
    }
  });
  process.stdout.write(
    `  remote media: ${DEMO_REMOTE.media.toLocaleString("en")} from ${DEMO_REMOTE.origins} servers, and thumbnails\n`,
  );
  await insertRealisticMediaCache(db, local, { ...DEMO_REMOTE, endTs, spanMs: DEMO_DATA.spanMs });
  await more();
  await db.schema.createTable("demo_info", (table) => {
    table.integer("version").notNullable();
    table.bigInteger("end_ts").notNullable();
  });
  await db("demo_info").insert({ version: DEMO_VERSION, end_ts: endTs });
}

interface DemoInfo {
  token: string;
  /** Where the demo's uploads end (ms). */
  endTs: number;
}

async function readDemoInfo(target: DatabaseTarget): Promise<DemoInfo> {
  const db =
    target.kind === "postgres" ? openPostgres(target.location) : openSqlite(target.location);
  try {
    const row = await db("access_tokens")
      .where("user_id", DEMO_ADMIN)
      .first<{ token: string }>("token");
    if (!row) throw new Error("the demo database has no admin token");
    const info = await db("demo_info").first<{ end_ts: number | string }>("end_ts");
    return { token: row.token, endTs: Number(info?.end_ts) };
  } finally {
    await db.destroy();
  }
}

function printInstructions(
  baseUrl: string,
  demo: DemoInfo,
  target: DatabaseTarget,
  dataDir: string,
): void {
  const endpoint = `${baseUrl}${MOUNT_PATH}/v1/statistics`;
  const storage = `${baseUrl}${MOUNT_PATH}${EXTENSION_PREFIX}/storage`;
  const auth = `-H 'Authorization: Bearer ${demo.token}'`;
  const where =
    target.kind === "sqlite"
      ? `SQLite file ${relative(process.cwd(), target.location) || target.location}`
      : "the embedded PostgreSQL";
  const lines = [
    "",
    `Demo ready on ${baseUrl}: ${DEMO_DATA.uploaders} uploaders, ${DEMO_DATA.media} media, ${DEMO_REMOTE.media} remote media from ${DEMO_REMOTE.origins} servers, in ${where}.`,
    `(It lives in ${relative(process.cwd(), dataDir) || dataDir}; delete that folder to start afresh.)`,
    "",
    `Admin access token: ${demo.token}`,
    "",
    "First page of users, by user ID:",
    `  curl ${auth} '${endpoint}/users/media?limit=10'`,
    "Largest uploaders first (how admin UIs open the page):",
    `  curl ${auth} '${endpoint}/users/media?order_by=media_length&dir=b&limit=10'`,
    "Uploads of the last 30 days of the data:",
    `  curl ${auth} '${endpoint}/users/media?from_ts=${demo.endTs - 30 * DAY_MS}&until_ts=${demo.endTs}&limit=10'`,
    "Search by localpart or displayname:",
    `  curl ${auth} '${endpoint}/users/media?search_term=maria&limit=10'`,
    target.kind === "postgres"
      ? "The largest rooms by database size:"
      : "The largest rooms (PostgreSQL only: this demo answers 400; try npm start -- --embedded-postgres):",
    `  curl ${auth} '${endpoint}/database/rooms'`,
    "Where the disk goes: database, local and remote media, thumbnails, types, months:",
    `  curl ${auth} '${storage}/overview'`,
    "The servers whose media fill the remote media cache most:",
    `  curl ${auth} '${storage}/remote_media/origins?order_by=media_length&dir=b&limit=10'`,
    "The largest local media, and the largest cached from matrix.org:",
    `  curl ${auth} '${storage}/media/largest?limit=10'`,
    `  curl ${auth} '${storage}/media/largest?source=remote&origin=matrix.org&limit=10'`,
    "The OpenAPI document:",
    `  curl '${baseUrl}${OPENAPI_PATH}'`,
    "",
    "Stop with Ctrl-C.",
    "",
  ];
  process.stdout.write(lines.join("\n"));
}
