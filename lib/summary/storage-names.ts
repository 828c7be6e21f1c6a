// The name of every object the storage part of the summary creates: the overview's aggregate,
// the per-origin totals of the remote cache, the index that answers each origin's first and
// last fetch, and one trigger per media table and event. All start with `sas_`.

/** Figures of the four media tables by (source, content type, UTC month): the overview's. */
export const MEDIA_OVERVIEW_TABLE = "sas_media_overview";
/** Remote media per origin: count and bytes. */
export const ORIGIN_MEDIA_TABLE = "sas_remote_origin_media";
/** Remote thumbnails per origin: count and bytes. */
export const ORIGIN_THUMBNAILS_TABLE = "sas_remote_origin_thumbnails";
/**
 * On remote_media_cache (media_origin, created_ts): each origin's first and last fetch in two
 * index descents. A minimum cannot be kept by subtraction when its row is deleted; read from
 * this index, it needs no keeping at all.
 */
export const ORIGIN_FETCH_INDEX = "sas_remote_media_cache_origin_created";

export const STORAGE_TABLES = [
  MEDIA_OVERVIEW_TABLE,
  ORIGIN_MEDIA_TABLE,
  ORIGIN_THUMBNAILS_TABLE,
] as const;

/** The primary key of a storage summary table (PostgreSQL names it). */
export const primaryKeyOf = (table: string): string => `${table}_pkey`;

/** The media tables the storage summary follows, with the short name their triggers carry. */
export const STORAGE_SOURCES = {
  local_media_repository: "local_media",
  local_media_repository_thumbnails: "local_thumbnails",
  remote_media_cache: "remote_media",
  remote_media_cache_thumbnails: "remote_thumbnails",
} as const;

export type StorageSourceTable = keyof typeof STORAGE_SOURCES;
export type StorageTriggerEvent = "insert" | "update" | "delete" | "truncate";

export const storageTriggerName = (table: StorageSourceTable, event: StorageTriggerEvent): string =>
  `sas_storage_${STORAGE_SOURCES[table]}_after_${event}`;

export const STORAGE_SOURCE_TABLES = Object.keys(STORAGE_SOURCES) as StorageSourceTable[];

const triggersFor = (events: readonly StorageTriggerEvent[]): string[] =>
  STORAGE_SOURCE_TABLES.flatMap((table) => events.map((event) => storageTriggerName(table, event)));

export const POSTGRES_STORAGE_TRIGGERS: readonly string[] = triggersFor([
  "insert",
  "update",
  "delete",
  "truncate",
]);
/** SQLite has no TRUNCATE: its DELETE without WHERE fires the delete triggers. */
export const SQLITE_STORAGE_TRIGGERS: readonly string[] = triggersFor([
  "insert",
  "update",
  "delete",
]);
