// A Synapse database on a primary and its hot standby, for the surrounding describe block, and
// the moves that make a standby cancel a read on cue: a lock replayed from the primary that
// the read waits on while it holds another, then a conflicting lock on the table it holds.

import type { Knex } from "knex";
import {
  createPostgresDatabase,
  createSynapseSchema,
  insertAccounts,
  openPostgres,
  STANDARD_ACCOUNTS,
  startStandbyPair,
  withDatabase,
  type PostgresSettings,
  type StandbyPair,
} from "../../fixtures";

export const SYNAPSE_DATABASE = "synapse";

export interface SynapseReplicas {
  pair: StandbyPair;
  /** The owner's connection to the Synapse database on the primary (for writes). */
  primary: Knex;
  /** A superuser's connection to the Synapse database on the standby (for looking on). */
  standby: Knex;
  primaryUrl: string;
  standbyUrl: string;
}

/**
 * Starts a primary and a standby for the describe block, with Synapse's schema, the standard
 * accounts and whatever `seed` writes before the standby is made; stops both after.
 */
export function useSynapseReplicas(
  seed: (primary: Knex) => Promise<void>,
  standbySettings: PostgresSettings = {},
): { readonly current: SynapseReplicas } {
  let replicas: SynapseReplicas | undefined;
  beforeAll(async () => {
    const pair = await startStandbyPair({
      standbySettings,
      prepare: async (serverUrl) => {
        const db = openPostgres(await createPostgresDatabase(serverUrl, SYNAPSE_DATABASE));
        try {
          await createSynapseSchema(db);
          await insertAccounts(db, STANDARD_ACCOUNTS);
          await seed(db);
        } finally {
          await db.destroy();
        }
      },
    });
    const primaryUrl = withDatabase(pair.primary.url, SYNAPSE_DATABASE);
    const standbyUrl = withDatabase(pair.standby.url, SYNAPSE_DATABASE);
    replicas = {
      pair,
      primary: openPostgres(primaryUrl),
      standby: openPostgres(standbyUrl),
      primaryUrl,
      standbyUrl,
    };
  }, 120_000);
  afterAll(async () => {
    await replicas?.primary.destroy();
    await replicas?.standby.destroy();
    await replicas?.pair.stop();
  });
  return {
    get current(): SynapseReplicas {
      if (!replicas) throw new Error("the replicas are not started yet");
      return replicas;
    },
  };
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 20 ms until it answers something other than undefined. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Holds an ACCESS EXCLUSIVE lock on `table` on the primary until released, and waits until the
 * standby's replay holds it too: reads of the table on the standby wait for it.
 */
export async function holdOnStandby(
  replicas: SynapseReplicas,
  table: string,
): Promise<() => Promise<void>> {
  const trx = await replicas.primary.transaction();
  await trx.raw("LOCK TABLE ?? IN ACCESS EXCLUSIVE MODE", [table]);
  // The lock's WAL goes out with the next flush: a commit elsewhere forces one.
  await replicas.primary.raw("SELECT txid_current()");
  await waitFor(`the standby to hold the lock on ${table}`, async () => {
    const held = await replicas.standby.raw<{ rows: unknown[] }>(
      "SELECT 1 FROM pg_locks WHERE relation = to_regclass(?) AND mode = 'AccessExclusiveLock' AND granted",
      [table],
    );
    return held.rows.length > 0 ? true : undefined;
  });
  return async () => {
    await trx.commit();
  };
}

/** The client sessions on the standby waiting for a lock right now, by process ID. */
export async function waitingOnStandby(replicas: SynapseReplicas): Promise<number[]> {
  const waiting = await replicas.standby.raw<{ rows: Array<{ pid: number }> }>(
    `SELECT pid FROM pg_stat_activity
      WHERE backend_type = 'client backend' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
  );
  return waiting.rows.map((row) => row.pid);
}

/** Waits until some client session on the standby waits for a lock; answers its process ID. */
export function aReadWaits(replicas: SynapseReplicas, except: number[] = []): Promise<number> {
  return waitFor("a read on the standby to wait for a lock", async () => {
    const pids = await waitingOnStandby(replicas);
    return pids.find((pid) => !except.includes(pid));
  });
}

/**
 * Takes and at once releases an ACCESS EXCLUSIVE lock on `table` on the primary (as VACUUM
 * does when it truncates a table). Replayed on a standby whose max_standby_streaming_delay is
 * 0, it cancels every read there that holds a lock on the table.
 */
export async function conflictOn(replicas: SynapseReplicas, table: string): Promise<void> {
  await replicas.primary.transaction(async (trx) => {
    await trx.raw("LOCK TABLE ?? IN ACCESS EXCLUSIVE MODE", [table]);
  });
}
