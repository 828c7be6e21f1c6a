// The largest media of one table, with the IDs Synapse's media admin APIs take: one top-N sort
// over the rows the filters leave (found through Synapse's index on the uploader or the origin
// when the request names one), and their count.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { knexRunner, toInteger, type SqlValue } from "../sql";
import type { LargestLocalMedia, LargestRemoteMedia, MediaSource } from "../storage-types";
import { nullableInteger } from "./remote-origins";

export interface LargestMediaFilter {
  source: MediaSource;
  /** Offset into the sorted list. */
  from: number;
  limit: number;
  /** Local media of this uploader only. */
  userId: string | undefined;
  /** Remote media of this origin only. */
  origin: string | undefined;
  /** Lower bound on `created_ts`, inclusive; 0 means none. */
  fromTs: number;
  /** Upper bound on `created_ts`, inclusive. */
  untilTs: number | undefined;
}

export interface LargestMediaPage {
  media: Array<LargestLocalMedia | LargestRemoteMedia>;
  /** Media matching the filter, over all pages. */
  total: number;
}

type Count = number | string | null;

interface MediaRow {
  total: Count;
  media_id: string | null;
  owner: string | null;
  media_type: string | null;
  media_length: Count;
  created_ts: Count;
  last_access_ts: Count;
  quarantined_by: string | null;
}

const SOURCES = {
  local: { table: "local_media_repository", owner: "user_id", ownerFirst: false },
  // The origin first: the same server's media of one size stay together.
  remote: { table: "remote_media_cache", owner: "media_origin", ownerFirst: true },
} as const;

// PostgreSQL sorts text by the database's collation unless told C; SQLite's is byte order.
const BYTE_ORDER: Record<Dialect, string> = { postgres: ' COLLATE "C"', sqlite: "" };

/**
 * One page of media, largest first; media of unknown length after all others; ties by media
 * ID (remote: by origin, then media ID), byte order, NULL origins last.
 */
export async function readLargestMedia(
  db: Knex,
  dialect: Dialect,
  filter: LargestMediaFilter,
): Promise<LargestMediaPage> {
  const source = SOURCES[filter.source];
  const conditions: string[] = [];
  const filterBindings: SqlValue[] = [];
  const owner = filter.source === "local" ? filter.userId : filter.origin;
  if (owner !== undefined) {
    conditions.push(`m.${source.owner} = ?`);
    filterBindings.push(owner);
  }
  if (filter.fromTs > 0) {
    conditions.push("m.created_ts >= ?");
    filterBindings.push(filter.fromTs);
  }
  if (filter.untilTs !== undefined) {
    conditions.push("m.created_ts <= ?");
    filterBindings.push(filter.untilTs);
  }
  // Nothing but the filters: the count is then an index-only scan of users_have_local_media
  // (or of the unique index on the origin), never a read of the rows themselves.
  const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
  const text = (column: string): string => `${column}${BYTE_ORDER[dialect]} ASC NULLS LAST`;
  const order = (length: string, owner: string, mediaId: string): string =>
    [
      `${length} DESC NULLS LAST`,
      ...(source.ownerFirst ? [text(owner), text(mediaId)] : [text(mediaId)]),
    ].join(", ");
  // The count and the page in one statement, so a page past the end still reports the total.
  const rows = await knexRunner(db, dialect).rows<MediaRow>(
    `SELECT counted.total, page.*
       FROM (SELECT COUNT(*) AS total FROM ${source.table} AS m ${where}) AS counted
       LEFT JOIN (
         SELECT m.media_id, m.${source.owner} AS owner, m.media_type, m.media_length,
                m.created_ts, m.last_access_ts, m.quarantined_by
           FROM ${source.table} AS m ${where}
          ORDER BY ${order("m.media_length", `m.${source.owner}`, "m.media_id")}
          LIMIT ? OFFSET ?
       ) AS page ON 1 = 1
      ORDER BY ${order("page.media_length", "page.owner", "page.media_id")}`,
    [...filterBindings, ...filterBindings, filter.limit, filter.from],
  );
  const total = rows.length > 0 ? toInteger(rows[0]?.total) : 0;
  const media: Array<LargestLocalMedia | LargestRemoteMedia> = [];
  for (const row of rows) {
    // A page past the end still brings the total, on a row with no media (Synapse never
    // stores a media without its ID).
    if (row.media_id === null) continue;
    const listed = {
      media_id: row.media_id,
      media_type: row.media_type,
      media_length: nullableInteger(row.media_length),
      created_ts: nullableInteger(row.created_ts),
      last_access_ts: nullableInteger(row.last_access_ts),
      quarantined_by: row.quarantined_by,
    };
    media.push(
      filter.source === "local"
        ? { ...listed, user_id: row.owner }
        : { ...listed, origin: row.owner },
    );
  }
  return { media, total };
}
