// Room-table test kit: Synapse's planner arithmetic restated independently (per table, two
// plain queries and exact BigInt decimal math, as Synapse's Python does it), the standard
// seeded room database, and a role that lacks privileges.

import { randomBytes } from "node:crypto";
import knexFactory, { type Knex } from "knex";
import {
  createRoomTables,
  rankRooms,
  ROOM_TABLE_NAMES,
  seedRooms,
  type RoomBytes,
  type RoomPlan,
  type RoomTableName,
} from "../../fixtures";

export const MAIN_TABLES = ROOM_TABLE_NAMES.filter((table) => table !== "state_groups_state");

/** An authCheck that lets every token in as an admin: the rooms tests are not about tokens. */
export const anyAdmin = (): { userId: string; admin: boolean } => ({
  userId: "@admin:test",
  admin: true,
});

/** `decimal` (float4 text: `0.0123`, `1.2345e-05`) times `multiplier`, truncated as int() does. */
export function truncatedProduct(decimal: string, multiplier: bigint): bigint {
  const match = /^(\d+)(?:\.(\d+))?(?:e([-+]?\d+))?$/.exec(decimal);
  if (!match) throw new Error(`not a decimal: ${decimal}`);
  const [, whole = "", fraction = "", exponent = "0"] = match;
  const scale = fraction.length - Number(exponent);
  const product = BigInt(whole + fraction) * multiplier;
  return scale <= 0 ? product * 10n ** BigInt(-scale) : product / 10n ** BigInt(scale);
}

export interface OraclePart {
  knex: Knex;
  tables: readonly string[];
  /** The schema the tables are really in. Default: public. */
  schema?: string;
}

/**
 * Synapse's answer, computed the way Synapse does it — per table, its total relation size and
 * its room_id most-common values and frequencies, each product truncated, summed per room —
 * but told the schema, so it measures the right tables. Returns the response body's exact
 * text: compared to the byte. A table without statistics contributes nothing.
 */
export async function synapsePlannerBody(parts: readonly OraclePart[]): Promise<string> {
  const totals = new Map<string, bigint>();
  for (const part of parts) {
    const schema = part.schema ?? "public";
    for (const table of part.tables) {
      const size = await part.knex.raw<{ rows: Array<{ size: string | null }> }>(
        "SELECT pg_total_relation_size(to_regclass(format('%I.%I', ?::text, ?::text)))::text AS size",
        [schema, table],
      );
      const bytes = size.rows[0]?.size;
      if (bytes == null) continue;
      const stats = await part.knex.raw<{
        rows: Array<{ vals: string[] | null; freqs: string | null }>;
      }>(
        `SELECT most_common_vals::text::text[] AS vals, most_common_freqs::text AS freqs
           FROM pg_stats WHERE schemaname = ? AND tablename = ? AND attname = 'room_id' AND NOT inherited`,
        [schema, table],
      );
      const row = stats.rows[0];
      if (!row?.vals || !row.freqs) continue;
      const freqs = row.freqs.replace(/^\{|\}$/g, "").split(",");
      expect(freqs).toHaveLength(row.vals.length);
      row.vals.forEach((roomId, index) => {
        const share = truncatedProduct(freqs[index] ?? "", BigInt(bytes));
        totals.set(roomId, (totals.get(roomId) ?? 0n) + share);
      });
    }
  }
  return roomsBody(rankRooms(totals).slice(0, 10));
}

/** The response body of a ranked room list, as the endpoint writes it. */
export function roomsBody(rooms: readonly RoomBytes[]): string {
  return JSON.stringify({
    rooms: rooms.map((room) => ({ room_id: room.roomId, estimated_size: Number(room.bytes) })),
  });
}

export interface StandardRoomsOptions {
  /** Tables to create. Default: all seven. */
  tables?: readonly RoomTableName[];
  /** Tables to fill. Default: all created. */
  seeded?: readonly RoomTableName[];
  /** Tables to ANALYZE afterwards. Default: all created. */
  analysed?: readonly RoomTableName[];
  eventEdgesRoomId?: boolean;
  seed?: number;
  /** Reuse the rooms of another database (the main one, for a split state database). */
  plan?: readonly RoomPlan[];
}

/**
 * Room tables with autovacuum off (statistics change only when a test says so), seeded with
 * 40 heavy-tailed rooms of 6,000 events in all, then analysed. Returns the rooms.
 */
export async function standardRooms(
  knex: Knex,
  options: StandardRoomsOptions = {},
): Promise<RoomPlan[]> {
  const tables = options.tables ?? ROOM_TABLE_NAMES;
  await createRoomTables(knex, { tables, autovacuum: false });
  const plan = await seedRooms(knex, {
    seed: options.seed ?? 3,
    rooms: options.plan ?? 40,
    events: 6_000,
    tables: options.seeded ?? tables,
    eventEdgesRoomId: options.eventEdgesRoomId ?? false,
  });
  const analysed = options.analysed ?? tables;
  if (analysed.length > 0)
    await knex.raw(`ANALYZE ${analysed.map(() => "??").join(", ")}`, [...analysed]);
  return plan;
}

/** A role made for one test: NOLOGIN, reached with SET ROLE from the superuser's session. */
export interface TestRole {
  name: string;
  /** A knex on `url` whose every connection acts as the role. */
  connect(url: string): Knex;
  /** Drops what the role was granted in `db`, then the role (roles are server-wide). */
  drop(db: Knex): Promise<void>;
}

export async function createTestRole(db: Knex): Promise<TestRole> {
  const name = `sas_role_${randomBytes(5).toString("hex")}`;
  await db.raw("CREATE ROLE ?? NOLOGIN", [name]);
  const opened: Knex[] = [];
  return {
    name,
    connect(url) {
      const knex = knexFactory({
        client: "pg",
        connection: url,
        pool: {
          min: 0,
          max: 2,
          afterCreate: (
            connection: { query(sql: string, done: (error: Error | null) => void): void },
            done: (error: Error | null, connection: unknown) => void,
          ) => {
            connection.query(`SET ROLE "${name}"`, (error) => done(error, connection));
          },
        },
      });
      opened.push(knex);
      return knex;
    },
    async drop(database) {
      await Promise.all(opened.map((knex) => knex.destroy()));
      await database.raw("DROP OWNED BY ??", [name]);
      await database.raw("DROP ROLE ??", [name]);
    },
  };
}
