// What is learnt about a database and kept for a while: its schema, and whether an opt-in
// summary is installed. A look that failed learnt nothing, so nothing of it is kept.

import type { Knex } from "knex";
import { ClientGoneError } from "../errors";
import { transientCause } from "../execution/transient";
import { recoverably } from "../sql";

/**
 * How long what was learnt about the database (its schema, its indexes, whether the summary is
 * there) is trusted before it is looked at again: an index or a summary added later is used
 * within a minute, without a restart.
 */
export const RECHECK_MS = 60_000;

export interface SummaryLookup {
  /** Whether the summary is installed, as last found (looked for again every RECHECK_MS). */
  present(db: Knex): Promise<boolean>;
  /** Looks again at once: after a read of the summary failed, is it still there? */
  recheck(db: Knex): Promise<boolean>;
}

/** Whether a summary is installed, as `detect` finds it, looked up on the request's `db`. */
export function createSummaryLookup(detect: (db: Knex) => Promise<boolean>): SummaryLookup {
  const found = cachedFor(RECHECK_MS, (db) => recoverably(db, () => detect(db)));
  return {
    present: (db) => forThisRequest(found.get(db)),
    recheck: (db) => forThisRequest(found.refresh(db)),
  };
}

/**
 * A look that failed is kept by nobody (cachedFor keeps no failure). When the request itself is
 * failing (the database went away, the client left, a statement was cancelled) so does this,
 * and its retry, if any, looks again; otherwise the media tables answer this request.
 */
async function forThisRequest(look: Promise<boolean>): Promise<boolean> {
  try {
    return await look;
  } catch (error) {
    if (requestIsFailing(error)) throw error;
    return false;
  }
}

function requestIsFailing(error: unknown): boolean {
  if (error instanceof ClientGoneError || transientCause(error) !== undefined) return true;
  const code = (error as { code?: unknown } | null)?.code;
  // Cancelled: a statement timeout or the scope's own cancel (PostgreSQL), an interrupt (SQLite).
  return code === "57014" || code === "SQLITE_INTERRUPT";
}

/**
 * A value worked out on first use and again once it is older than `maxAgeMs`, lazily, on the
 * next call (a timer would keep the host's process alive), on the knex of the call that needs
 * it. A failure is not kept: the next call tries again. `refresh(db)` works it out anew at
 * once, whatever is under way.
 */
export function cachedFor<T>(
  maxAgeMs: number,
  compute: (db: Knex) => Promise<T>,
): { get(db: Knex): Promise<T>; refresh(db: Knex): Promise<T> } {
  let current: { value: Promise<T>; at: number; db: Knex } | undefined;
  const refresh = (db: Knex): Promise<T> => {
    const value = compute(db);
    const entry = { value, at: Date.now(), db };
    current = entry;
    value.catch(() => {
      if (current === entry) current = undefined;
    });
    return value;
  };
  return {
    async get(db) {
      const entry = current;
      if (entry === undefined || Date.now() - entry.at >= maxAgeMs) return refresh(db);
      try {
        return await entry.value;
      } catch (error) {
        // Worked out in another request's transaction, which may have been stopped because
        // its client left: that says nothing of this request. Work it out here.
        if (entry.db === db) throw error;
        return refresh(db);
      }
    },
    refresh,
  };
}
