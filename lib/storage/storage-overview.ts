// The storage overview in one call: the database and its largest tables, then local and
// remote media (each table read once) inside one snapshot, so the media figures agree with
// each other; and for every figure whether it is exact.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import type {
  CountAndBytes,
  DatabaseUsage,
  FigureAccuracy,
  LocalMediaUsage,
  RemoteMediaUsage,
  StorageOverview,
} from "../storage-types";
import { calendarMonthsUntil } from "./calendar-months";
import { readDatabaseSize, readLargestTables } from "./database-size";
import {
  countRemoteOrigins,
  readMediaBreakdown,
  readThumbnailTotals,
  type MediaBreakdown,
  type MediaBreakdownOptions,
} from "./media-usage";
import { inSnapshot } from "./users-media";

/** How many tables, content types and months the overview lists. */
export const OVERVIEW_LIMITS = { largestTables: 20, contentTypes: 10, months: 24 } as const;

/** A database to read, with its dialect. */
export interface DatabaseHandle {
  db: Knex;
  dialect: Dialect;
}

export interface StorageOverviewOptions {
  /** The state database, when it is split off from the main one. */
  state?: DatabaseHandle;
  /** The instant the overview is of (ms); the last month is the one holding it. Default: now. */
  now?: number;
  /** Stops between statements once aborted (the client left). */
  signal?: AbortSignal;
  /** Reads the media figures inside the overview's snapshot. Default: scanMediaFigures. */
  mediaFigures?: MediaFiguresReader;
}

/** The media figures of the overview, before they are put in its shape. */
export interface MediaFigures {
  local: MediaBreakdown;
  localThumbnails: CountAndBytes;
  remote: MediaBreakdown;
  remoteThumbnails: CountAndBytes;
  origins: number;
}

export type MediaFiguresReader = (
  trx: Knex,
  dialect: Dialect,
  breakdown: MediaBreakdownOptions,
  signal?: AbortSignal,
) => Promise<MediaFigures>;

/** The media figures read from the media tables themselves, each table read once. */
export const scanMediaFigures: MediaFiguresReader = async (trx, dialect, breakdown, signal) => {
  const local = await readMediaBreakdown(trx, dialect, "local", breakdown);
  signal?.throwIfAborted();
  const localThumbnails = await readThumbnailTotals(trx, dialect, "local");
  signal?.throwIfAborted();
  const remote = await readMediaBreakdown(trx, dialect, "remote", breakdown);
  signal?.throwIfAborted();
  const remoteThumbnails = await readThumbnailTotals(trx, dialect, "remote");
  const origins = await countRemoteOrigins(trx, dialect);
  return { local, localThumbnails, remote, remoteThumbnails, origins };
};

/** Reads the whole overview; see StorageOverview for what each figure means. */
export async function readStorageOverview(
  main: DatabaseHandle,
  options: StorageOverviewOptions = {},
): Promise<StorageOverview> {
  const generatedAt = options.now ?? Date.now();
  const breakdown: MediaBreakdownOptions = {
    months: calendarMonthsUntil(generatedAt, OVERVIEW_LIMITS.months),
    contentTypes: OVERVIEW_LIMITS.contentTypes,
  };
  const { signal } = options;
  const read = options.mediaFigures ?? scanMediaFigures;
  const media = await inSnapshot(main.db, main.dialect, async (trx) => {
    const figures = await read(trx, main.dialect, breakdown, signal);
    const { url_cache: urlCache, ...localFigures } = figures.local;
    const { url_cache: _none, ...remoteFigures } = figures.remote;
    const localMedia: LocalMediaUsage = {
      ...localFigures,
      thumbnails: figures.localThumbnails,
      url_cache: urlCache ?? { count: 0, bytes: 0 },
    };
    const remoteMedia: RemoteMediaUsage = {
      ...remoteFigures,
      thumbnails: figures.remoteThumbnails,
      origins: figures.origins,
    };
    return { localMedia, remoteMedia };
  });
  signal?.throwIfAborted();
  const mainUsage = await readDatabaseUsage(main);
  signal?.throwIfAborted();
  const stateUsage = options.state ? await readDatabaseUsage(options.state) : null;
  const described = describeFigures(main.dialect, {
    state: stateUsage !== null,
    tableSizes: mainUsage.largest_tables !== null,
  });
  return {
    generated_at: generatedAt,
    database: {
      engine: main.dialect === "postgres" ? "postgresql" : "sqlite",
      main: mainUsage,
      state: stateUsage,
    },
    local_media: media.localMedia,
    remote_media: media.remoteMedia,
    ...described,
  };
}

/** A database's size and its largest tables. */
export async function readDatabaseUsage(handle: DatabaseHandle): Promise<DatabaseUsage> {
  return {
    size_bytes: await readDatabaseSize(handle.db, handle.dialect),
    largest_tables: await readLargestTables(
      handle.db,
      handle.dialect,
      OVERVIEW_LIMITS.largestTables,
    ),
  };
}

const COUNT_AND_BYTES = ["count", "bytes"];
const MEDIA_FIGURES = [
  ...COUNT_AND_BYTES,
  "quarantined.count",
  "quarantined.bytes",
  "thumbnails.count",
  "thumbnails.bytes",
  "content_types[].count",
  "content_types[].bytes",
  "monthly[].count",
  "monthly[].bytes",
];
const TABLE_BYTES = ["total_bytes", "table_bytes", "index_bytes"];

/**
 * Whether each figure is exact, by its path in the document, and notes in words for whatever
 * is estimated, unavailable or easily misread on this database.
 */
export function describeFigures(
  dialect: Dialect,
  present: { state: boolean; tableSizes: boolean },
): { accuracy: Record<string, FigureAccuracy>; notes: string[] } {
  const accuracy: Record<string, FigureAccuracy> = {};
  const notes: string[] = [];
  const database = (name: "main" | "state"): void => {
    accuracy[`database.${name}.size_bytes`] = "exact";
    const tables = `database.${name}.largest_tables`;
    if (dialect === "sqlite" && !present.tableSizes) {
      accuracy[tables] = "unavailable";
      return;
    }
    for (const figure of TABLE_BYTES) accuracy[`${tables}[].${figure}`] = "exact";
    accuracy[`${tables}[].toast_bytes`] = dialect === "postgres" ? "exact" : "unavailable";
    accuracy[`${tables}[].rows`] = dialect === "postgres" ? "estimated" : "exact";
  };
  database("main");
  if (present.state) database("state");
  for (const figure of [...MEDIA_FIGURES, "url_cache.count", "url_cache.bytes"]) {
    accuracy[`local_media.${figure}`] = "exact";
  }
  for (const figure of [...MEDIA_FIGURES, "origins"]) accuracy[`remote_media.${figure}`] = "exact";

  if (dialect === "postgres") {
    notes.push(
      "Table rows are PostgreSQL's planner estimates (pg_class.reltuples), as fresh as the last VACUUM or ANALYZE of each table; null for a table never analysed. Every byte figure is exact at the time of reading.",
    );
  } else {
    notes.push(
      "SQLite: the database size is page_count × page_size of the main file; a write-ahead log (-wal file) beside it is not counted.",
    );
    notes.push(
      present.tableSizes
        ? "SQLite has no TOAST: long values live in overflow pages, counted in table_bytes, so toast_bytes is null. Table sizes and rows are exact, read page by page from dbstat."
        : "Table sizes are unavailable: this SQLite was built without the dbstat virtual table (SQLITE_ENABLE_DBSTAT_VTAB), the only way SQLite tells which table a page belongs to.",
    );
  }
  notes.push(
    "Media figures are exact and read in one snapshot. A media of unknown length (NULL) counts as 0 bytes; media without created_ts, or created outside the 24 months, are in no month; remote media without an origin count in the totals but belong to no origin.",
  );
  return { accuracy, notes };
}
