// The public types of the storage endpoints (this package's own, beyond Synapse's API): what
// each answers, which is also what the storage functions behind them return.

/** A number of rows and the bytes they account for (a NULL length counts as 0 bytes). */
export interface CountAndBytes {
  count: number;
  bytes: number;
}

/** One content type among the media of one table. */
export interface ContentTypeUsage {
  /** `media_type` as stored; `null` for media stored without one. */
  content_type: string | null;
  count: number;
  bytes: number;
}

/** Media created in one calendar month (UTC). */
export interface MonthlyUsage {
  /** `YYYY-MM`. */
  month: string;
  count: number;
  bytes: number;
}

/** The figures of one media table read in one pass. */
export interface MediaTableUsage extends CountAndBytes {
  /** Media with `quarantined_by` set. */
  quarantined: CountAndBytes;
  /** The content types with the most bytes, most first; ties by content type (byte order). */
  content_types: ContentTypeUsage[];
  /**
   * Each calendar month (UTC) of the window, oldest first, months without media included as
   * zeros. Media with no `created_ts`, or created outside the window, are in no month.
   */
  monthly: MonthlyUsage[];
}

/** Local media (`local_media_repository`): uploads, URL previews included. */
export interface LocalMediaUsage extends MediaTableUsage {
  /** Rows of `local_media_repository_thumbnails`. */
  thumbnails: CountAndBytes;
  /** URL-preview media (`url_cache` set), which Synapse keeps in the same table. */
  url_cache: CountAndBytes;
}

/** The remote media cache (`remote_media_cache`): media of other servers, fetched and kept. */
export interface RemoteMediaUsage extends MediaTableUsage {
  /** Rows of `remote_media_cache_thumbnails`. */
  thumbnails: CountAndBytes;
  /** Distinct origins (servers) with at least one media; a NULL origin is none. */
  origins: number;
}

/** One table's share of a database. */
export interface TableSize {
  /** The schema (PostgreSQL); `null` on SQLite. */
  schema: string | null;
  table: string;
  /** Everything below together: what the table costs on disk. */
  total_bytes: number;
  /** The table's own pages (PostgreSQL: main fork, free space and visibility maps). */
  table_bytes: number;
  /** All its indexes. */
  index_bytes: number;
  /** Its TOAST table and index (PostgreSQL); `null` on SQLite, which has no TOAST. */
  toast_bytes: number | null;
  /**
   * Rows: PostgreSQL's planner estimate (`null` when the table was never analysed); exact on
   * SQLite, counted from the pages.
   */
  rows: number | null;
}

/** One database: its size and its largest tables. */
export interface DatabaseUsage {
  /** On PostgreSQL `pg_database_size`; on SQLite `page_count × page_size` of the main file. */
  size_bytes: number;
  /** Largest first; `null` when the database cannot tell (SQLite without `dbstat`). */
  largest_tables: TableSize[] | null;
}

/** How a figure of the overview was obtained. */
export type FigureAccuracy = "exact" | "estimated" | "unavailable";

/** The body of `GET …/v1/storage/overview`. */
export interface StorageOverview {
  /** When the figures were read (ms since the epoch); the months end with this one's. */
  generated_at: number;
  database: {
    engine: "postgresql" | "sqlite";
    main: DatabaseUsage;
    /** The state database when it is split off from the main one; otherwise `null`. */
    state: DatabaseUsage | null;
  };
  local_media: LocalMediaUsage;
  remote_media: RemoteMediaUsage;
  /**
   * For every figure, by its path in this document (`[]` stands for every element of an
   * array, e.g. `database.main.largest_tables[].rows`): exact, estimated or unavailable.
   */
  accuracy: Record<string, FigureAccuracy>;
  /** What the figures mean where that is not obvious, and what is unavailable and why. */
  notes: string[];
}

/** The columns `GET …/v1/storage/remote_media/origins` sorts by (`order_by`). */
export type RemoteOriginsOrder = "origin" | "media_count" | "media_length";

/** One origin server's share of the remote media cache. */
export interface RemoteOriginUsage {
  origin: string;
  media_count: number;
  /** Total bytes; media of unknown length count as 0. */
  media_length: number;
  /** Bytes of the thumbnails of this origin's media. */
  thumbnail_length: number;
  /** The first and last time a media of this origin was fetched (`created_ts`, ms). */
  first_fetched_ts: number | null;
  last_fetched_ts: number | null;
}

/** The body of `GET …/v1/storage/remote_media/origins`. */
export interface RemoteOriginsResponse {
  origins: RemoteOriginUsage[];
  /** How many origins match, over all pages. */
  total: number;
  /** The `from` of the next page; present only when there is one. */
  next_token?: number;
}

/** Which media table `GET …/v1/storage/media/largest` lists. */
export type MediaSource = "local" | "remote";

/** The columns both kinds of media rows share. */
interface ListedMedia {
  media_id: string;
  media_type: string | null;
  /** `null` when Synapse never recorded it; such media come after all others. */
  media_length: number | null;
  created_ts: number | null;
  last_access_ts: number | null;
  /** The admin who quarantined it; `null` when it is not quarantined. */
  quarantined_by: string | null;
}

/** A local media: what Synapse's media admin APIs take is its `media_id`. */
export interface LargestLocalMedia extends ListedMedia {
  /** The uploader. */
  user_id: string | null;
}

/** A cached remote media: Synapse's quarantine API takes `origin` and `media_id`. */
export interface LargestRemoteMedia extends ListedMedia {
  origin: string | null;
}

/** The body of `GET …/v1/storage/media/largest`. */
export interface LargestMediaResponse {
  /** Largest first; ties by media ID (remote: by origin, then media ID), byte order. */
  media: Array<LargestLocalMedia | LargestRemoteMedia>;
  total: number;
  next_token?: number;
}
