// Runs one spec on every database: SQLite in memory, and a scratch PostgreSQL database on the
// server global-setup found. Schema and seed go through the shared fixtures.

import type { Knex } from "knex";
import {
  createScratchPostgres,
  createSynapseSchema,
  insertAccounts,
  openSqlite,
  STANDARD_ACCOUNTS,
  type ScratchDatabase,
  type SynapseSchemaOptions,
} from "../../fixtures";

export type DatabaseKind = "sqlite" | "postgres";
export const DATABASE_KINDS: readonly DatabaseKind[] = ["sqlite", "postgres"];

export function postgresServerUrl(): string {
  const url = process.env.TEST_PG_URL;
  if (!url) throw new Error("TEST_PG_URL is not set: global-setup did not run");
  return url;
}

export interface TestDatabase {
  kind: DatabaseKind;
  knex: Knex;
  /** The PostgreSQL URL of this database (undefined for SQLite). */
  url: string | undefined;
  close(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Create Synapse's tables and the standard accounts. Default: true. */
  schema?: boolean | SynapseSchemaOptions;
  /** PostgreSQL database collation; default C as Synapse requires. */
  collation?: string;
}

export async function openTestDatabase(
  kind: DatabaseKind,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  let scratch: ScratchDatabase | undefined;
  let knex: Knex;
  if (kind === "postgres") {
    scratch = await createScratchPostgres(postgresServerUrl(), {
      prefix: "sas_test",
      ...(options.collation ? { collation: options.collation } : {}),
    });
    knex = scratch.knex;
  } else {
    knex = openSqlite(":memory:");
  }
  if (options.schema !== false) {
    await createSynapseSchema(knex, typeof options.schema === "object" ? options.schema : {});
    await insertAccounts(knex, STANDARD_ACCOUNTS);
  }
  return {
    kind,
    knex,
    url: scratch?.url,
    close: () => (scratch ? scratch.drop() : knex.destroy()),
  };
}

/**
 * A database for the surrounding describe block: opened (and seeded by `seed`) before its
 * tests, closed after. Read `.current` inside tests.
 */
export function useTestDatabase(
  kind: DatabaseKind,
  seed: (knex: Knex) => Promise<void> = async () => undefined,
  options: TestDatabaseOptions = {},
): { readonly current: TestDatabase } {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await openTestDatabase(kind, options);
    await seed(database.knex);
  });
  afterAll(async () => {
    await database?.close();
  });
  return {
    get current(): TestDatabase {
      if (!database) throw new Error("the test database is not open yet");
      return database;
    },
  };
}
