// What the storage summary keeps of each media table, said once for both databases: which
// summary rows a media row counts in (its key) and what it adds there. The PostgreSQL
// statement triggers, the SQLite row triggers, the backfill and verify are all generated
// from these, over a row reference such as `r.` (a transition table), `NEW.` or `m.`.

import type { Dialect } from "../dialect";
import {
  MEDIA_OVERVIEW_TABLE,
  ORIGIN_MEDIA_TABLE,
  ORIGIN_THUMBNAILS_TABLE,
  type StorageSourceTable,
} from "./storage-names";

/** An expression over one media row, given the prefix that names the row (`r.`, `NEW.`). */
export type RowExpression = (row: string) => string;

export interface TargetKey {
  column: string;
  /** The column's SQL type; `text` keys sort (and lock) in byte order. */
  type: "TEXT" | "INTEGER";
  value: RowExpression;
}

/** One summary table as one media table feeds it. */
export interface StorageTarget {
  table: string;
  /** The key of a summary row: what it groups by, then the writer's slot (SLOT_COLUMN). */
  keys: readonly TargetKey[];
  /** The column counting the media rows of a key. */
  count: string;
  sums: ReadonlyArray<{ column: string; value: RowExpression }>;
  /** Rows for which this is false count in no key (remote media without an origin). */
  where: RowExpression;
  /** Empties what the media table's rows put in the summary (its TRUNCATE). */
  empty: string;
}

export interface StorageSource {
  table: StorageSourceTable;
  /** The columns any target reads: an UPDATE of others changes nothing. */
  columns: readonly string[];
  targets: readonly StorageTarget[];
}

/** Year 10000 in ms: beyond it (and before 1970) a media is in no month the overview shows. */
const LAST_MONTH_END_MS = 253402300800000;

/**
 * The UTC calendar month of `created_ts` as YYYYMM, 0 when it has none the overview could
 * show (NULL, before 1970, after 9999). Month boundaries are whole seconds, so truncating the
 * milliseconds (exact for ts >= 0) cannot move a media across one.
 */
function monthOf(dialect: Dialect): RowExpression {
  return (row) => {
    const month =
      dialect === "postgres"
        ? `CAST(to_char(to_timestamp(${row}created_ts / 1000) AT TIME ZONE 'UTC', 'YYYYMM') AS INTEGER)`
        : `CAST(strftime('%Y%m', ${row}created_ts / 1000, 'unixepoch') AS INTEGER)`;
    return `CASE WHEN ${row}created_ts >= 0 AND ${row}created_ts < ${LAST_MONTH_END_MS} THEN ${month} ELSE 0 END`;
  };
}

/** The key column that spreads each group over several rows, one per writer's slot. */
export const SLOT_COLUMN = "slot";
/** How many slots a group is spread over on PostgreSQL. */
export const SLOTS = 16;

/**
 * The writer's slot: on PostgreSQL its backend's process ID modulo SLOTS. A group's figures are
 * the sum of its rows over the slots, so two connections writing the same group (every upload
 * of a JPEG this month, every fetch from one origin) mostly write different rows: they neither
 * wait for each other's commit nor, under Synapse's REPEATABLE READ, fail to serialize; one
 * connection always writes the same row. A slot's row may go negative (a media counted in one
 * slot, deleted through another); it is deleted when all its figures are back to 0. SQLite has
 * one writer at a time: one slot.
 */
function slotKey(dialect: Dialect): TargetKey {
  return {
    column: SLOT_COLUMN,
    type: "INTEGER",
    value: constant(dialect === "postgres" ? `pg_backend_pid() % ${SLOTS}` : "0"),
  };
}

export type OverviewSource = "local" | "remote" | "local_thumbnails" | "remote_thumbnails";

const when =
  (condition: RowExpression, value: RowExpression): RowExpression =>
  (row) =>
    `CASE WHEN ${condition(row)} THEN ${value(row)} ELSE 0 END`;
const always: RowExpression = () => "1 = 1";
const constant =
  (value: string): RowExpression =>
  () =>
    value;

/** The overview's row of a media (a content type in a month) or of a thumbnail (one per table). */
function overviewTarget(
  dialect: Dialect,
  source: OverviewSource,
  length: string,
  flags: { typed: boolean; quarantine: boolean; urlCache: boolean },
): StorageTarget {
  const bytes: RowExpression = (row) => `COALESCE(${row}${length}, 0)`;
  const quarantined: RowExpression = (row) => `${row}quarantined_by IS NOT NULL`;
  const preview: RowExpression = (row) => `${row}url_cache IS NOT NULL`;
  return {
    table: MEDIA_OVERVIEW_TABLE,
    keys: [
      { column: "source", type: "TEXT", value: constant(`'${source}'`) },
      // A primary key takes no NULL: a media without a content type is (0, '').
      {
        column: "typed",
        type: "INTEGER",
        value: flags.typed
          ? (row) => `CASE WHEN ${row}media_type IS NULL THEN 0 ELSE 1 END`
          : constant("0"),
      },
      {
        column: "media_type",
        type: "TEXT",
        value: flags.typed ? (row) => `COALESCE(${row}media_type, '')` : constant("''"),
      },
      {
        column: "month",
        type: "INTEGER",
        value: flags.typed ? monthOf(dialect) : constant("0"),
      },
      slotKey(dialect),
    ],
    count: "media_count",
    sums: [
      { column: "media_length", value: bytes },
      {
        column: "quarantined_count",
        value: flags.quarantine ? when(quarantined, constant("1")) : constant("0"),
      },
      {
        column: "quarantined_length",
        value: flags.quarantine ? when(quarantined, bytes) : constant("0"),
      },
      {
        column: "url_cache_count",
        value: flags.urlCache ? when(preview, constant("1")) : constant("0"),
      },
      { column: "url_cache_length", value: flags.urlCache ? when(preview, bytes) : constant("0") },
    ],
    where: always,
    empty: `DELETE FROM ${MEDIA_OVERVIEW_TABLE} WHERE source = '${source}'`,
  };
}

function originTarget(dialect: Dialect, table: string, length: string): StorageTarget {
  return {
    table,
    keys: [
      { column: "media_origin", type: "TEXT", value: (row) => `${row}media_origin` },
      slotKey(dialect),
    ],
    count: table === ORIGIN_MEDIA_TABLE ? "media_count" : "thumbnail_count",
    sums: [
      {
        column: table === ORIGIN_MEDIA_TABLE ? "media_length" : "thumbnail_length",
        value: (row) => `COALESCE(${row}${length}, 0)`,
      },
    ],
    where: (row) => `${row}media_origin IS NOT NULL`,
    empty: `DELETE FROM ${table}`,
  };
}

/**
 * The four media tables and what each feeds, in the order every trigger writes them: the
 * overview, then an origin table. One order everywhere keeps two transactions from locking
 * the same summary rows in opposite orders.
 */
export function storageSources(dialect: Dialect): StorageSource[] {
  const media = { typed: true, quarantine: true };
  const thumbnail = { typed: false, quarantine: false, urlCache: false };
  return [
    {
      table: "local_media_repository",
      columns: ["media_type", "media_length", "created_ts", "quarantined_by", "url_cache"],
      targets: [overviewTarget(dialect, "local", "media_length", { ...media, urlCache: true })],
    },
    {
      table: "local_media_repository_thumbnails",
      columns: ["thumbnail_length"],
      targets: [overviewTarget(dialect, "local_thumbnails", "thumbnail_length", thumbnail)],
    },
    {
      table: "remote_media_cache",
      columns: ["media_origin", "media_type", "media_length", "created_ts", "quarantined_by"],
      targets: [
        overviewTarget(dialect, "remote", "media_length", { ...media, urlCache: false }),
        originTarget(dialect, ORIGIN_MEDIA_TABLE, "media_length"),
      ],
    },
    {
      table: "remote_media_cache_thumbnails",
      columns: ["media_origin", "thumbnail_length"],
      targets: [
        overviewTarget(dialect, "remote_thumbnails", "thumbnail_length", thumbnail),
        originTarget(dialect, ORIGIN_THUMBNAILS_TABLE, "thumbnail_length"),
      ],
    },
  ];
}

/** The columns of each storage summary table, as CREATE TABLE lists them (both databases). */
export const STORAGE_TABLE_COLUMNS: Readonly<Record<string, string>> = {
  [MEDIA_OVERVIEW_TABLE]: `source TEXT NOT NULL, typed INTEGER NOT NULL, media_type TEXT NOT NULL,
     month INTEGER NOT NULL, slot INTEGER NOT NULL,
     media_count BIGINT NOT NULL, media_length BIGINT NOT NULL,
     quarantined_count BIGINT NOT NULL, quarantined_length BIGINT NOT NULL,
     url_cache_count BIGINT NOT NULL, url_cache_length BIGINT NOT NULL`,
  [ORIGIN_MEDIA_TABLE]: `media_origin TEXT NOT NULL, slot INTEGER NOT NULL,
     media_count BIGINT NOT NULL, media_length BIGINT NOT NULL`,
  [ORIGIN_THUMBNAILS_TABLE]: `media_origin TEXT NOT NULL, slot INTEGER NOT NULL,
     thumbnail_count BIGINT NOT NULL, thumbnail_length BIGINT NOT NULL`,
};

/** The primary key of each: the upserts' conflict target. */
export const STORAGE_TABLE_KEYS: Readonly<Record<string, string>> = {
  [MEDIA_OVERVIEW_TABLE]: "source, typed, media_type, month, slot",
  [ORIGIN_MEDIA_TABLE]: "media_origin, slot",
  [ORIGIN_THUMBNAILS_TABLE]: "media_origin, slot",
};

/** The columns holding a target's figures: its count, then its sums. */
export const measuresOf = (target: StorageTarget): string[] => [
  target.count,
  ...target.sums.map((sum) => sum.column),
];

/** The columns of a target's summary table, keys first. */
export const columnsOf = (target: StorageTarget): string[] => [
  ...target.keys.map((key) => key.column),
  target.count,
  ...target.sums.map((sum) => sum.column),
];

/**
 * The summary rows of the media rows of `from` (aliased `r`), one per key, each with its
 * count and sums (negated with `sign` "-", for rows that leave the summary).
 */
export function aggregateOf(
  target: StorageTarget,
  from: string,
  sign: "" | "-" = "",
  hint = "",
): string {
  const keys = target.keys.map((key) => `${key.value("r.")} AS ${key.column}`);
  const sums = target.sums.map(
    ({ column, value }) => `${sign}COALESCE(SUM(${value("r.")}), 0) AS ${column}`,
  );
  return `SELECT ${[...keys, `${sign}COUNT(*) AS ${target.count}`, ...sums].join(", ")}
    FROM ${from} AS r${hint}
   WHERE ${target.where("r.")}
   GROUP BY ${target.keys.map((_, index) => index + 1).join(", ")}`;
}
