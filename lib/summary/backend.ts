// What each database's implementation of the summary provides, what it reports about the
// summary's presence, and the little they share; the public functions pick one by dialect.

import type { Knex } from "knex";
import type { SqlRunner } from "../sql";
import { isAbsent, isComplete, type StorageSummaryState } from "./storage-state";

export interface SummaryState {
  /** local_media_repository exists. */
  mediaTable: boolean;
  /** The summary table exists. */
  table: boolean;
  /** This session may read the summary table (always true on SQLite). */
  readable: boolean;
  /** Triggers of the summary that are missing, or present but disabled. */
  missingTriggers: string[];
  /** Triggers of the summary present but installed by another version (install replaces them). */
  outdatedTriggers: string[];
  /** Every object of the summary that exists, by name: what a new install would collide with. */
  objects: string[];
  /** The summary and media tables as a statement must name them (schema-qualified on PostgreSQL). */
  names: { summary: string; media: string };
  /** The storage part: the overview's and the remote origins' aggregates. */
  storage: StorageSummaryState;
}

export interface InstallCounts {
  /** Users in the summary: those with at least one local media row. */
  users: number;
  /** Media rows counted: those with a user. */
  media: number;
}

export interface InstallOutcome extends InstallCounts {
  /** The triggers of an earlier version install replaced, the rows kept; empty for a new install. */
  upgradedTriggers: string[];
  /** The per-user part: created, its triggers upgraded, or found whole and current. */
  userSummary: "installed" | "upgraded" | "kept";
  /**
   * The storage part (the overview's and remote origins' aggregates): created, found whole, or
   * not installable because a media table it follows does not exist.
   */
  storageSummary: "installed" | "kept" | "unavailable";
}

export type UserPlan = InstallOutcome["userSummary"] | "refuse";
export type StoragePlan = InstallOutcome["storageSummary"] | "refuse";

/**
 * What install does to each part: creates one that is absent, upgrades (where `upgradable`)
 * or keeps one that is whole, and refuses a part that is only partly there (it is stale: only
 * uninstall then install rebuilds it). It also refuses when there is nothing to do.
 */
export function planInstall(
  state: SummaryState,
  upgradable: boolean,
): { user: UserPlan; storage: StoragePlan } {
  const user: UserPlan =
    state.objects.length === 0
      ? "installed"
      : upgradable
        ? "upgraded"
        : state.table && state.missingTriggers.length === 0
          ? "kept"
          : "refuse";
  const storage: StoragePlan = !state.storage.sourcesPresent
    ? isAbsent(state.storage)
      ? "unavailable"
      : "refuse"
    : isAbsent(state.storage)
      ? "installed"
      : isComplete(state.storage)
        ? "kept"
        : "refuse";
  if (user === "refuse" || storage === "refuse" || (user === "kept" && storage !== "installed")) {
    return { user: "refuse", storage: "refuse" };
  }
  return { user, storage };
}

export interface SummaryBackend {
  /** What of the summary exists, from the catalogue alone. */
  inspect(db: Knex): Promise<SummaryState>;
  /**
   * Creates and backfills the summary in one transaction, or brings the triggers of a complete
   * summary of an earlier version to this one; refuses if any other part exists.
   */
  install(db: Knex): Promise<InstallOutcome>;
  /** Drops whatever part of the summary exists, in one transaction; the names dropped. */
  uninstall(db: Knex): Promise<string[]>;
}

/** The counts install reports, read back from the filled summary. */
export async function countSummary(run: SqlRunner, summary: string): Promise<InstallCounts> {
  const [counts] = await run.rows<{ users: number | string; media: number | string | null }>(
    `SELECT COUNT(*) AS users, COALESCE(SUM(media_count), 0) AS media FROM ${summary}`,
  );
  return { users: Number(counts?.users ?? 0), media: Number(counts?.media ?? 0) };
}
