// The remote media cache per origin server: one scan of the cache aggregated per origin, one
// page of origins cut from it, and the thumbnail bytes of that page's origins only.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { knexRunner, toInteger, type SqlValue } from "../sql";
import type { RemoteOriginsOrder, RemoteOriginUsage } from "../storage-types";
import { LIKE_ESCAPE, literalLikePattern } from "./users-media";

export interface RemoteOriginsFilter {
  /** Offset into the sorted list. */
  from: number;
  limit: number;
  orderBy: RemoteOriginsOrder;
  direction: "f" | "b";
  /** Case-insensitive (ASCII) literal substring of the origin. */
  searchTerm: string | undefined;
}

export interface RemoteOriginsPage {
  origins: RemoteOriginUsage[];
  /** Origins matching the filter, over all pages. */
  total: number;
}

type Count = number | string | null;

interface DialectSql {
  /** Text compared by bytes and folded by ASCII only, whatever the database's collation. */
  byteOrder: string;
  /** Added after the cache table in the per-origin aggregate. */
  scanHint: string;
  /** (origin, thumbnail_length) for at least the origins of the CTE `page`. */
  pageThumbnails: string;
}

const dialectSql: Record<Dialect, DialectSql> = {
  postgres: {
    byteOrder: ' COLLATE "C"',
    scanHint: "",
    // Every origin's thumbnails in one parallel scan: a reference to the page (a CTE) would
    // keep the scan out of the parallel workers, measured 3x slower at 3.5M thumbnails.
    pageThumbnails: `
       SELECT t.media_origin AS origin, SUM(t.thumbnail_length) AS thumbnail_length
         FROM remote_media_cache_thumbnails AS t
        WHERE t.media_origin IS NOT NULL
        GROUP BY t.media_origin`,
  },
  // SQLite's BINARY collation and lower() are byte order and ASCII already. It groups by
  // sorting, so it reads the thumbnails of the page's origins only, through Synapse's unique
  // index on (media_origin, media_id, ...).
  sqlite: {
    byteOrder: "",
    // Left to itself, SQLite walks the unique index in origin order and fetches every row by
    // rowid: measured 3x slower at 2M rows than scanning the table and sorting.
    scanHint: " NOT INDEXED",
    pageThumbnails: `
       SELECT t.media_origin AS origin, SUM(t.thumbnail_length) AS thumbnail_length
         FROM remote_media_cache_thumbnails AS t
        WHERE t.media_origin IN (SELECT origin FROM page)
        GROUP BY t.media_origin`,
  },
};

/**
 * One page of origins with their media count and bytes, thumbnail bytes and first and last
 * fetch, and how many origins there are. Media without an origin belong to none. Ties in the
 * sort column are broken by origin in the same direction, so paging is stable.
 */
export async function readRemoteOrigins(
  db: Knex,
  dialect: Dialect,
  filter: RemoteOriginsFilter,
): Promise<RemoteOriginsPage> {
  const sql = dialectSql[dialect];
  const collate = sql.byteOrder;
  const bindings: SqlValue[] = [];
  const where = ["m.media_origin IS NOT NULL"];
  if (filter.searchTerm !== undefined) {
    where.push(`lower(m.media_origin${collate}) LIKE ? ESCAPE '${LIKE_ESCAPE}'`);
    bindings.push(literalLikePattern(filter.searchTerm));
  }
  bindings.push(filter.limit, filter.from);
  const rows = await knexRunner(db, dialect).rows<OriginRow>(
    `WITH per_origin AS MATERIALIZED (
       SELECT m.media_origin AS origin, COUNT(*) AS media_count,
              COALESCE(SUM(m.media_length), 0) AS media_length,
              MIN(m.created_ts) AS first_fetched_ts, MAX(m.created_ts) AS last_fetched_ts
         FROM remote_media_cache AS m${sql.scanHint}
        WHERE ${where.join(" AND ")}
        GROUP BY m.media_origin
     ),
     page AS MATERIALIZED (
       SELECT * FROM per_origin ORDER BY ${orderBy("per_origin", filter, collate)} LIMIT ? OFFSET ?
     ),
     thumbnails AS (${sql.pageThumbnails})
     SELECT counted.total, page.origin, page.media_count, page.media_length,
            COALESCE(thumbnails.thumbnail_length, 0) AS thumbnail_length,
            page.first_fetched_ts, page.last_fetched_ts
       FROM (SELECT COUNT(*) AS total FROM per_origin) AS counted
       LEFT JOIN page ON 1 = 1
       LEFT JOIN thumbnails ON thumbnails.origin = page.origin
      ORDER BY ${orderBy("page", filter, collate)}`,
    bindings,
  );
  return pageOf(rows);
}

/** One row per origin of the page, each bringing the total: a page past the end brings one with no origin. */
export interface OriginRow {
  total: Count;
  origin: string | null;
  media_count: Count;
  media_length: Count;
  thumbnail_length: Count;
  first_fetched_ts: Count;
  last_fetched_ts: Count;
}

/** The page the rows of a page statement make. */
export function pageOf(rows: readonly OriginRow[]): RemoteOriginsPage {
  const total = rows.length > 0 ? toInteger(rows[0]?.total) : 0;
  const origins: RemoteOriginUsage[] = [];
  for (const row of rows) {
    // A page past the end still brings the total, on a row with no origin.
    if (row.origin === null) continue;
    origins.push({
      origin: row.origin,
      media_count: toInteger(row.media_count),
      media_length: toInteger(row.media_length),
      thumbnail_length: toInteger(row.thumbnail_length),
      first_fetched_ts: nullableInteger(row.first_fetched_ts),
      last_fetched_ts: nullableInteger(row.last_fetched_ts),
    });
  }
  return { origins, total };
}

/** The ORDER BY of a page of `alias`: the sort column, ties broken by origin the same way. */
export function orderBy(alias: string, filter: RemoteOriginsFilter, collate: string): string {
  const direction = filter.direction === "b" ? "DESC" : "ASC";
  const byOrigin = `${alias}.origin${collate} ${direction}`;
  return filter.orderBy === "origin"
    ? byOrigin
    : `${alias}.${filter.orderBy} ${direction}, ${byOrigin}`;
}

/** A timestamp that may be NULL, as a JSON integer or null. */
export function nullableInteger(value: Count): number | null {
  return value === null ? null : toInteger(value);
}
