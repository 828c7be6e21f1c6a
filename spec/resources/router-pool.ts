// The router's own PostgreSQL pool in the resource specs: its sessions carry a name, so that
// pg_stat_activity tells them apart from the test's own.

import type { Knex } from "knex";
import { openPostgres } from "../../fixtures";
import type { TestDatabase } from "../helpers/databases";

export interface RouterPool {
  readonly knex: Knex;
  /** How many of its sessions are in `state` (`active`, `idle in transaction`...). */
  sessions(state: string, queryLike?: string): Promise<number>;
  /** Ends every one of its sessions on the server, as a failover or an operator would. */
  terminate(): Promise<void>;
}

/** A pool of `max` connections to the block's database, opened before its tests, closed after. */
export function useRouterPool(
  db: { readonly current: TestDatabase },
  application: string,
  max: number,
): RouterPool {
  let knex: Knex | undefined;
  beforeAll(() => {
    const url = new URL(db.current.url as string);
    url.searchParams.set("application_name", application);
    knex = openPostgres(url.toString(), { min: 0, max });
  });
  afterAll(() => knex?.destroy());
  return {
    get knex(): Knex {
      if (knex === undefined) throw new Error("the router pool is not open yet");
      return knex;
    },
    async sessions(state, queryLike = "%") {
      const result = await db.current.admin.raw<{ rows: Array<{ sessions: string }> }>(
        "SELECT count(*) AS sessions FROM pg_stat_activity WHERE application_name = ? AND state = ? AND query LIKE ?",
        [application, state, queryLike],
      );
      return Number(result.rows[0]?.sessions);
    },
    async terminate() {
      await db.current.admin.raw(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?",
        [application],
      );
    },
  };
}
