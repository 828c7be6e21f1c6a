// The opt-in per-user media summary: a table of each user's media count and bytes that
// triggers keep exact, so the users' media endpoint can answer without aggregating the media
// table. Nothing in the router installs it: an operator does, once, with these functions or
// the CLI's `summary` commands, and the router finds it (detectMediaUsageSummary).

import type { Knex } from "knex";
import { describeClient, detectDialect } from "../dialect";
import type { InstallOutcome, SummaryBackend } from "./backend";
import { findDrift, type MediaUsageDrift } from "./drift";
import { MediaUsageSummaryError, noMediaTable } from "./errors";
import { postgresSummary } from "./postgres-summary";
import { knexRunner } from "../sql";
import { sqliteSummary } from "./sqlite-summary";
import { isComplete } from "./storage-state";
import { findStorageDrift, type StorageDriftRow } from "./storage-drift";

export { MEDIA_USAGE_SUMMARY_TABLE } from "./names";
export { MediaUsageSummaryError, type MediaUsageSummaryFailure } from "./errors";
export type { MediaUsageDrift, MediaUsageTotals } from "./drift";
export type { StorageDriftRow } from "./storage-drift";

export type MediaUsageSummaryInstallResult = InstallOutcome;

export interface MediaUsageSummaryReport {
  /** The summary table exists. */
  installed: boolean;
  /** Every trigger that keeps it exact exists and is enabled. */
  triggersPresent: boolean;
  /** Names of the triggers that are missing or disabled. */
  missingTriggers: string[];
  /**
   * Names of triggers installed by an earlier version: they keep the summary exact, but the
   * row-level ones of 0.1 make a statement that changes many media of one user take time
   * quadratic in their number. `installMediaUsageSummary` replaces them in place.
   */
  outdatedTriggers: string[];
  /** Users whose summary row differs from the media table, by user ID (byte order), at most `VERIFY_DRIFT_LIMIT`. */
  drift: MediaUsageDrift[];
  /** How many users differ in all (`drift` lists the first of them). */
  driftedUsers: number;
}

/** verify lists at most this many drifted users; `driftedUsers` counts them all. */
export const VERIFY_DRIFT_LIMIT = 100;

/**
 * The implementation for the database of `db`. `ownTransaction` names a function that must run
 * its own transaction (its lock and isolation level must be the first things in it), which a
 * caller's transaction would turn into a savepoint.
 */
function backendFor(
  db: Knex,
  ownTransaction?: string,
): { backend: SummaryBackend; dialect: "postgres" | "sqlite" } {
  if (ownTransaction !== undefined && (db as { isTransaction?: boolean }).isTransaction === true) {
    throw new TypeError(
      `${ownTransaction} runs its own transaction: give it a knex instance, not a transaction`,
    );
  }
  const dialect = detectDialect(db);
  if (dialect === undefined) {
    throw new MediaUsageSummaryError(
      "unsupported-database",
      `the per-user media summary needs PostgreSQL (pg) or SQLite, not ${describeClient(db)}`,
    );
  }
  return { backend: dialect === "postgres" ? postgresSummary : sqliteSummary, dialect };
}

/**
 * Creates the summary table, its indexes and the triggers on local_media_repository, and fills
 * the table from the media table, all in one transaction. Writers of the media table wait
 * while it runs (reads go on), so no upload is missed or counted twice. On a complete summary
 * installed by an earlier version, replaces its outdated triggers in place instead (keeping
 * the rows, which they kept exact) and names them in `upgradedTriggers`. Refuses, with a
 * MediaUsageSummaryError, when any other part of the summary is already there.
 */
export async function installMediaUsageSummary(db: Knex): Promise<MediaUsageSummaryInstallResult> {
  return backendFor(db, "install").backend.install(db);
}

/**
 * Compares the summary with a fresh aggregate of the media table and reports every difference
 * (the first VERIFY_DRIFT_LIMIT in full), along with whether the table and triggers exist.
 * Reads only.
 */
export async function verifyMediaUsageSummary(db: Knex): Promise<MediaUsageSummaryReport> {
  const { backend, dialect } = backendFor(db);
  const state = await backend.inspect(db);
  if (!state.mediaTable) throw noMediaTable();
  const report = {
    installed: state.table,
    triggersPresent: state.missingTriggers.length === 0,
    missingTriggers: state.missingTriggers,
    outdatedTriggers: state.outdatedTriggers,
  };
  if (!state.table) return { ...report, drift: [], driftedUsers: 0 };
  return {
    ...report,
    ...(await findDrift(knexRunner(db, dialect), state.names, VERIFY_DRIFT_LIMIT)),
  };
}

/**
 * Removes every object install created (whatever part of them exists) and nothing else, in one
 * transaction. Does nothing when there is no summary.
 */
export async function uninstallMediaUsageSummary(db: Knex): Promise<void> {
  await removeMediaUsageSummary(db);
}

/** uninstall, answering the names of the objects it dropped (for the CLI's report). */
export async function removeMediaUsageSummary(db: Knex): Promise<string[]> {
  return backendFor(db, "uninstall").backend.uninstall(db);
}

/**
 * Whether the summary can be trusted: its table and every one of its triggers exist (and are
 * enabled), and this session may read the table. A summary whose triggers are gone is stale
 * and answers false. Catalogue queries only, cheap enough to repeat.
 */
export async function detectMediaUsageSummary(db: Knex): Promise<boolean> {
  const state = await backendFor(db).backend.inspect(db);
  return state.table && state.readable && state.missingTriggers.length === 0;
}

export interface StorageSummaryReport {
  /** Every media table the storage part follows exists (without them it cannot be installed). */
  available: boolean;
  /** Its tables exist. */
  installed: boolean;
  /** Its tables, index and triggers that are missing (or disabled): it is stale. */
  missing: string[];
  /** Rows of its tables that differ from the media tables, at most VERIFY_DRIFT_LIMIT. */
  drift: StorageDriftRow[];
  /** How many rows differ in all. */
  driftedRows: number;
}

/**
 * Compares the storage part of the summary (the overview's and remote origins' aggregates)
 * with fresh aggregates of the four media tables, and says what of it is missing. Reads only.
 */
export async function verifyStorageSummary(db: Knex): Promise<StorageSummaryReport> {
  const { backend, dialect } = backendFor(db);
  const state = await backend.inspect(db);
  if (!state.mediaTable) throw noMediaTable();
  const storage = state.storage;
  const report = {
    available: storage.sourcesPresent,
    installed: storage.tables,
    missing: [...storage.missing, ...storage.missingTriggers],
  };
  if (!storage.tables) return { ...report, drift: [], driftedRows: 0 };
  return {
    ...report,
    ...(await findStorageDrift(knexRunner(db, dialect), storage.prefix, VERIFY_DRIFT_LIMIT)),
  };
}

/**
 * Whether the storage endpoints may read the summary's storage part: its tables, index and
 * every trigger exist (and are enabled), and this session may read them. Catalogue only.
 */
export async function detectStorageSummary(db: Knex): Promise<boolean> {
  const state = await backendFor(db).backend.inspect(db);
  return state.storage.readable && isComplete(state.storage);
}
