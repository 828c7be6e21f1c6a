// The storage endpoints' figures read from the opt-in summary (lib/summary): the overview
// from a few thousand aggregate rows, a page of origins from the per-origin totals, each
// origin's first and last fetch from two descents of the summary's index. The same answers,
// to the byte, as the scans of media-usage.ts and remote-origins.ts.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { knexRunner, toInteger, type SqlValue } from "../sql";
import type { ContentTypeUsage, CountAndBytes, MonthlyUsage } from "../storage-types";
import {
  MEDIA_OVERVIEW_TABLE,
  ORIGIN_MEDIA_TABLE,
  ORIGIN_THUMBNAILS_TABLE,
} from "../summary/storage-names";
import type { MediaBreakdown, MediaBreakdownOptions } from "./media-usage";
import {
  orderBy,
  pageOf,
  type OriginRow,
  type RemoteOriginsFilter,
  type RemoteOriginsPage,
} from "./remote-origins";
import type { MediaFigures } from "./storage-overview";
import { LIKE_ESCAPE, literalLikePattern } from "./users-media";

type Count = number | string | null;

interface OverviewRow {
  source: string;
  part: "all" | "month" | "type";
  typed: Count;
  media_type: string | null;
  month: Count;
  media_count: Count;
  media_length: Count;
  quarantined_count: Count;
  quarantined_length: Count;
  url_cache_count: Count;
  url_cache_length: Count;
}

const byteOrder = (dialect: Dialect): string => (dialect === "postgres" ? ' COLLATE "C"' : "");

/** `YYYY-MM` as the summary keys months: YYYYMM. */
const monthKey = (label: string): number =>
  Number(label.slice(0, 4)) * 100 + Number(label.slice(5, 7));

const SUMS = [
  "media_count",
  "media_length",
  "quarantined_count",
  "quarantined_length",
  "url_cache_count",
  "url_cache_length",
]
  .map((column) => `SUM(${column}) AS ${column}`)
  .join(", ");

/** The overview's media figures, from the summary's aggregate, in one statement. */
export async function summaryMediaFigures(
  db: Knex,
  dialect: Dialect,
  options: MediaBreakdownOptions,
): Promise<MediaFigures> {
  const labels = options.months.labels;
  const bindings: SqlValue[] = [
    monthKey(labels[0] ?? "0000-00"),
    monthKey(labels[labels.length - 1] ?? "0000-00"),
    options.contentTypes,
  ];
  // Content types rank as the scan sorts them: bytes, then the type in byte order, none last.
  const rows = await knexRunner(db, dialect).rows<OverviewRow>(
    `SELECT source, 'all' AS part, CAST(NULL AS INTEGER) AS typed, CAST(NULL AS TEXT) AS media_type,
            CAST(NULL AS INTEGER) AS month, ${SUMS}
       FROM ${MEDIA_OVERVIEW_TABLE} GROUP BY source
     UNION ALL
     SELECT source, 'month', CAST(NULL AS INTEGER), CAST(NULL AS TEXT), month, ${SUMS}
       FROM ${MEDIA_OVERVIEW_TABLE}
      WHERE source IN ('local', 'remote') AND month BETWEEN ? AND ?
      GROUP BY source, month
     UNION ALL
     SELECT source, 'type', typed, media_type, CAST(NULL AS INTEGER), media_count, media_length, 0, 0, 0, 0
       FROM (SELECT source, typed, media_type, SUM(media_count) AS media_count,
                    SUM(media_length) AS media_length,
                    ROW_NUMBER() OVER (PARTITION BY source
                                       ORDER BY SUM(media_length) DESC, typed DESC,
                                                media_type${byteOrder(dialect)}) AS rank
               FROM ${MEDIA_OVERVIEW_TABLE}
              WHERE source IN ('local', 'remote')
              GROUP BY source, typed, media_type
             HAVING SUM(media_count) <> 0) AS ranked
      WHERE rank <= ?`,
    bindings,
  );
  const breakdown = (source: "local" | "remote"): MediaBreakdown => {
    const index = new Map(labels.map((label, position) => [monthKey(label), position]));
    const monthly: MonthlyUsage[] = labels.map((month) => ({ month, count: 0, bytes: 0 }));
    const types: ContentTypeUsage[] = [];
    let all: OverviewRow | undefined;
    for (const row of rows) {
      if (row.source !== source) continue;
      if (row.part === "all") all = row;
      else if (row.part === "month") {
        const entry = monthly[index.get(toInteger(row.month)) ?? -1];
        if (entry) {
          entry.count = toInteger(row.media_count);
          entry.bytes = toInteger(row.media_length);
        }
      } else {
        types.push({
          content_type: toInteger(row.typed) === 1 ? row.media_type : null,
          count: toInteger(row.media_count),
          bytes: toInteger(row.media_length),
        });
      }
    }
    // The UNION's parts come back in no promised order: the types are sorted again here.
    const contentTypes = sortTypes(types);
    return {
      count: toInteger(all?.media_count),
      bytes: toInteger(all?.media_length),
      quarantined: {
        count: toInteger(all?.quarantined_count),
        bytes: toInteger(all?.quarantined_length),
      },
      url_cache:
        source === "local"
          ? { count: toInteger(all?.url_cache_count), bytes: toInteger(all?.url_cache_length) }
          : null,
      content_types: contentTypes,
      monthly,
    };
  };
  const thumbnails = (source: string): CountAndBytes => {
    const row = rows.find((candidate) => candidate.source === source && candidate.part === "all");
    return { count: toInteger(row?.media_count), bytes: toInteger(row?.media_length) };
  };
  const [origins] = await knexRunner(db, dialect).rows<{ origins: Count }>(
    `SELECT COUNT(*) AS origins FROM (${PER_ORIGIN} GROUP BY m.media_origin ${HELD}) AS held`,
  );
  return {
    local: breakdown("local"),
    localThumbnails: thumbnails("local_thumbnails"),
    remote: breakdown("remote"),
    remoteThumbnails: thumbnails("remote_thumbnails"),
    origins: toInteger(origins?.origins),
  };
}

/** The scan's order of content types: bytes descending, then type in byte order, none last. */
function sortTypes(types: ContentTypeUsage[]): ContentTypeUsage[] {
  const bytesOf = (text: string | null) => (text === null ? null : Buffer.from(text, "utf8"));
  return types.sort((a, b) => {
    if (a.bytes !== b.bytes) return b.bytes - a.bytes;
    const left = bytesOf(a.content_type);
    const right = bytesOf(b.content_type);
    if (left === null || right === null) return left === right ? 0 : left === null ? 1 : -1;
    return Buffer.compare(left, right);
  });
}

/**
 * Each origin's media, summed over the writers' slots (lib/summary/storage-targets.ts), as
 * `m`; an origin whose rows sum to no media has none left.
 */
const PER_ORIGIN = `SELECT m.media_origin AS origin, SUM(m.media_count) AS media_count,
              SUM(m.media_length) AS media_length
         FROM ${ORIGIN_MEDIA_TABLE} AS m`;
const HELD = "HAVING SUM(m.media_count) <> 0";

/** One page of origins from the summary, as readRemoteOrigins answers it. */
export async function summaryRemoteOrigins(
  db: Knex,
  dialect: Dialect,
  filter: RemoteOriginsFilter,
): Promise<RemoteOriginsPage> {
  const collate = byteOrder(dialect);
  const bindings: SqlValue[] = [];
  let where = "";
  if (filter.searchTerm !== undefined) {
    where = `WHERE lower(m.media_origin${collate}) LIKE ? ESCAPE '${LIKE_ESCAPE}'`;
    bindings.push(literalLikePattern(filter.searchTerm));
  }
  bindings.push(filter.limit, filter.from);
  // First and last fetch: MIN and MAX of created_ts per origin, each one descent of the
  // summary's (media_origin, created_ts) index, for the page's origins only.
  const rows = await knexRunner(db, dialect).rows<OriginRow>(
    `WITH per_origin AS MATERIALIZED (
       ${PER_ORIGIN} ${where} GROUP BY m.media_origin ${HELD}
     ),
     page AS MATERIALIZED (
       SELECT * FROM per_origin ORDER BY ${orderBy("per_origin", filter, collate)} LIMIT ? OFFSET ?
     ),
     thumbnails AS (
       SELECT t.media_origin, SUM(t.thumbnail_length) AS thumbnail_length
         FROM ${ORIGIN_THUMBNAILS_TABLE} AS t
        WHERE t.media_origin IN (SELECT origin FROM page)
        GROUP BY t.media_origin
     )
     SELECT counted.total, page.origin, page.media_count, page.media_length,
            COALESCE(t.thumbnail_length, 0) AS thumbnail_length,
            (SELECT MIN(r.created_ts) FROM remote_media_cache AS r WHERE r.media_origin = page.origin) AS first_fetched_ts,
            (SELECT MAX(r.created_ts) FROM remote_media_cache AS r WHERE r.media_origin = page.origin) AS last_fetched_ts
       FROM (SELECT COUNT(*) AS total FROM per_origin) AS counted
       LEFT JOIN page ON 1 = 1
       LEFT JOIN thumbnails AS t ON t.media_origin = page.origin
      ORDER BY ${orderBy("page", filter, collate)}`,
    bindings,
  );
  return pageOf(rows);
}
