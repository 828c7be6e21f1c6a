// The SQL behind GET /statistics/users/media: one statement for both dialects, with the few
// places they differ kept in the `dialectSql` table below.

import type { Knex } from "knex";
import type { Dialect } from "./dialect";
import type { MediaSchema } from "./media-schema";

export type UsersMediaOrder = "user_id" | "displayname" | "media_length" | "media_count";

export interface UsersMediaFilter {
  /** Offset into the sorted list. */
  from: number;
  limit: number;
  /** Lower bound on `created_ts`, inclusive; 0 means none (as in Synapse). */
  fromTs: number;
  /** Upper bound on `created_ts`, inclusive. */
  untilTs: number | undefined;
  orderBy: UsersMediaOrder;
  direction: "f" | "b";
  /** Case-insensitive (ASCII) literal substring of the localpart or the displayname. */
  searchTerm: string | undefined;
}

export interface UserMediaRow {
  user_id: string;
  displayname: string | null;
  media_count: number;
  media_length: number;
}

export interface UsersMediaPage {
  users: UserMediaRow[];
  total: number;
}

interface DialectSql {
  /** The localpart of a full user ID `@local:server`: after the sigil, up to the first colon. */
  localpart(column: string): string;
}

const dialectSql: Record<Dialect, DialectSql> = {
  postgres: {
    localpart: (column) => `split_part(substr(${column}, 2), ':', 1)`,
  },
  // SQLite has no split_part; this is the same cut, spelled with instr.
  sqlite: {
    localpart: (column) =>
      `substr(substr(${column}, 2), 1, CASE WHEN instr(substr(${column}, 2), ':') > 0 ` +
      `THEN instr(substr(${column}, 2), ':') - 1 ELSE length(${column}) END)`,
  },
};

// Only ASCII letters fold, on both backends: SQLite's lower() knows no others, and on
// PostgreSQL the C collation makes lower() do the same whatever the database's locale.
const asciiLower = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

// `!` rather than a backslash: its meaning does not depend on standard_conforming_strings.
const LIKE_ESCAPE = "!";
const literalLikePattern = (term: string): string =>
  `%${asciiLower(term).replace(/[!%_]/g, (c) => LIKE_ESCAPE + c)}%`;

/**
 * One page of users with their media count and bytes, and the number of users over all pages.
 * Media are aggregated per user first, with every filter applied below the aggregate, so only
 * one row per user is joined to `profiles` and sorted. Ties in the sort column are broken by
 * user ID in the same direction, which makes paging deterministic.
 */
export async function getUsersMediaPage(
  db: Knex,
  dialect: Dialect,
  schema: MediaSchema,
  filter: UsersMediaFilter,
): Promise<UsersMediaPage> {
  const sql = dialectSql[dialect];
  const collate = schema.byteOrder;
  const pgCollateC = dialect === "postgres" ? ' COLLATE "C"' : "";
  // How a media row's user finds its profile: the full ID, or before Synapse 1.85 the localpart.
  const profileKey = schema.profileKey === "full_user_id" ? "full_user_id" : "user_id";
  const mediaUserKey = (alias: string): string =>
    schema.profileKey === "full_user_id" ? `${alias}.user_id` : sql.localpart(`${alias}.user_id`);

  const where = ["m.user_id IS NOT NULL"];
  const bindings: Array<string | number> = [];
  if (filter.fromTs > 0) {
    where.push("m.created_ts >= ?");
    bindings.push(filter.fromTs);
  }
  if (filter.untilTs !== undefined) {
    where.push("m.created_ts <= ?");
    bindings.push(filter.untilTs);
  }
  if (filter.searchTerm !== undefined) {
    const pattern = literalLikePattern(filter.searchTerm);
    where.push(
      `(lower(${sql.localpart("m.user_id")}${pgCollateC}) LIKE ? ESCAPE '${LIKE_ESCAPE}'` +
        // A membership test, which PostgreSQL runs once as a hashed subplan, not per media row.
        ` OR ${mediaUserKey("m")} IN (SELECT sp.${profileKey} FROM profiles AS sp` +
        ` WHERE lower(sp.displayname${pgCollateC}) LIKE ? ESCAPE '${LIKE_ESCAPE}'))`,
    );
    bindings.push(pattern, pattern);
  }

  const dir = filter.direction === "b" ? "DESC" : "ASC";
  // Users without a displayname come last forwards and first backwards, on both backends
  // (SQLite's default would put NULLs first going forwards).
  const nulls = filter.direction === "b" ? "NULLS FIRST" : "NULLS LAST";
  const orderBy = (page: string): string => {
    const tieBreak = `${page}.user_id${collate} ${dir}`;
    switch (filter.orderBy) {
      case "user_id":
        return tieBreak;
      case "displayname":
        return `${page}.displayname${collate} ${dir} ${nulls}, ${tieBreak}`;
      case "media_length":
        return `${page}.media_length ${dir}, ${tieBreak}`;
      case "media_count":
        return `${page}.media_count ${dir}, ${tieBreak}`;
    }
  };

  // The count rides along with the page (LEFT JOIN ... ON 1 = 1) so that a page past the end
  // still reports the total, in one round trip and over one snapshot.
  const statement = `
    WITH per_user AS MATERIALIZED (
      SELECT m.user_id, COUNT(*) AS media_count, COALESCE(SUM(m.media_length), 0) AS media_length
        FROM local_media_repository AS m
       WHERE ${where.join(" AND ")}
       GROUP BY m.user_id
    ),
    named AS (
      SELECT u.user_id, p.displayname, u.media_count, u.media_length
        FROM per_user AS u
        LEFT JOIN profiles AS p ON p.${profileKey} = ${mediaUserKey("u")}
    )
    SELECT counted.total, page.user_id, page.displayname, page.media_count, page.media_length
      FROM (SELECT COUNT(*) AS total FROM per_user) AS counted
      LEFT JOIN (
        SELECT * FROM named ORDER BY ${orderBy("named")} LIMIT ? OFFSET ?
      ) AS page ON 1 = 1
     ORDER BY ${orderBy("page")}`;
  bindings.push(filter.limit, filter.from);

  const rows = await rawRows<PageRow>(db, dialect, statement, bindings);
  const total = rows.length > 0 ? toInteger(rows[0]?.total) : 0;
  const users: UserMediaRow[] = [];
  for (const row of rows) {
    if (row.user_id === null) continue;
    users.push({
      user_id: row.user_id,
      displayname: row.displayname,
      media_count: toInteger(row.media_count),
      media_length: toInteger(row.media_length),
    });
  }
  return { users, total };
}

interface PageRow {
  total: number | string | bigint;
  user_id: string | null;
  displayname: string | null;
  media_count: number | string | bigint | null;
  media_length: number | string | bigint | null;
}

/** The rows of a raw query, whichever shape the driver returns them in. */
export async function rawRows<Row>(
  db: Knex,
  dialect: Dialect,
  statement: string,
  bindings: ReadonlyArray<string | number>,
): Promise<Row[]> {
  const result: unknown = await db.raw(statement, bindings as Knex.RawBinding[]);
  // node-pg answers a result object; the SQLite drivers answer the rows themselves.
  return dialect === "postgres" ? (result as { rows: Row[] }).rows : (result as Row[]);
}

/**
 * A count or byte total as a JSON integer. node-pg returns COUNT and SUM (bigint, numeric)
 * as strings so as not to lose precision; a value beyond 2^53 is reported rather than
 * silently rounded.
 */
export function toInteger(value: number | string | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    throw new RangeError(`database returned ${typeof value} that is not a safe integer`);
  }
  return number;
}
