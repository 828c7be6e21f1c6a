// The summary's own refusals, each with a fixed reason a caller (the CLI, a script) can act on
// and a message an operator can read; database errors that are not refusals pass through.

export type MediaUsageSummaryFailure =
  /** The knex instance is neither PostgreSQL (pg) nor SQLite. */
  | "unsupported-database"
  /** There is no local_media_repository table to summarise. */
  | "no-media-table"
  /** install found the summary (or part of it) already there. */
  | "already-installed"
  /** local_media_repository stayed locked by other transactions past the lock timeout. */
  | "media-table-busy"
  /** The role lacks a privilege install or uninstall needs (they are for the media table's owner). */
  | "not-permitted";

export class MediaUsageSummaryError extends Error {
  constructor(
    readonly reason: MediaUsageSummaryFailure,
    message: string,
  ) {
    super(message);
    this.name = "MediaUsageSummaryError";
  }
}

export const noMediaTable = (): MediaUsageSummaryError =>
  new MediaUsageSummaryError(
    "no-media-table",
    "there is no local_media_repository table: is this a Synapse database?",
  );

export const alreadyInstalled = (objects: readonly string[]): MediaUsageSummaryError =>
  new MediaUsageSummaryError(
    "already-installed",
    `the per-user media summary is already installed (found ${objects.join(", ")}); ` +
      "uninstall it first to install it afresh",
  );
