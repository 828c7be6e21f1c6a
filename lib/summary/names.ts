// The name of every object the per-user media summary creates, in one place: install creates
// exactly these, uninstall drops exactly these, and detect looks for exactly these. Each starts
// with `sas_`, a prefix Synapse never uses, so none can collide with Synapse's own tables.

/** The summary table: one row per user with local media, their count and bytes. */
export const MEDIA_USAGE_SUMMARY_TABLE = "sas_user_media_usage";

/** The media table the summary follows. */
export const MEDIA_TABLE = "local_media_repository";

/** The primary key (PostgreSQL names it; SQLite's WITHOUT ROWID table is the key itself). */
export const SUMMARY_PRIMARY_KEY = "sas_user_media_usage_pkey";

/** One index per sort the endpoint offers beyond user_id, which the primary key serves. */
export const SUMMARY_INDEXES = {
  media_length: "sas_user_media_usage_by_media_length",
  media_count: "sas_user_media_usage_by_media_count",
} as const;

/** The triggers on local_media_repository; on PostgreSQL each calls a function of its name. */
export const SUMMARY_TRIGGERS = {
  insert: "sas_user_media_usage_after_insert",
  delete: "sas_user_media_usage_after_delete",
  update: "sas_user_media_usage_after_update",
  /** PostgreSQL only: SQLite has no TRUNCATE (its DELETE without WHERE fires the delete trigger). */
  truncate: "sas_user_media_usage_after_truncate",
} as const;

export const POSTGRES_TRIGGERS: readonly string[] = Object.values(SUMMARY_TRIGGERS);
export const SQLITE_TRIGGERS: readonly string[] = [
  SUMMARY_TRIGGERS.insert,
  SUMMARY_TRIGGERS.delete,
  SUMMARY_TRIGGERS.update,
];
