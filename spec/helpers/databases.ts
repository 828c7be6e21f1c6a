// Runs one spec on every database: SQLite in memory, and a scratch PostgreSQL database on the
// server global-setup found. Schema and seed go through the shared fixtures. The endpoint
// suites also run on two variants: a PostgreSQL role with nothing but SELECT (the package must
// write nothing), and with the opt-in per-user summary installed (answers must not change).

import { randomBytes } from "node:crypto";
import type { Knex } from "knex";
import {
  createScratchPostgres,
  createSynapseSchema,
  insertAccounts,
  openPostgres,
  openSqlite,
  STANDARD_ACCOUNTS,
  type ScratchDatabase,
  type SynapseSchemaOptions,
} from "../../fixtures";
import { installMediaUsageSummary } from "../../lib/summary/media-usage-summary";

export type DatabaseKind = "sqlite" | "postgres";
export const DATABASE_KINDS: readonly DatabaseKind[] = ["sqlite", "postgres"];

export interface DatabaseVariant {
  name: string;
  kind: DatabaseKind;
  /** The router reads as a login role that holds SELECT on the tables and nothing else. */
  selectOnlyRole?: boolean;
  /** The per-user summary is installed before the data is loaded (its triggers keep it). */
  summary?: boolean;
}

export const DATABASE_VARIANTS: readonly DatabaseVariant[] = [
  { name: "sqlite", kind: "sqlite" },
  { name: "postgres", kind: "postgres" },
  { name: "postgres as a SELECT-only role", kind: "postgres", selectOnlyRole: true },
  { name: "sqlite with the summary", kind: "sqlite", summary: true },
  { name: "postgres with the summary", kind: "postgres", summary: true },
];

export function postgresServerUrl(): string {
  const url = process.env.TEST_PG_URL;
  if (!url) throw new Error("TEST_PG_URL is not set: global-setup did not run");
  return url;
}

export interface TestDatabase {
  kind: DatabaseKind;
  /** What the router under test reads through. */
  knex: Knex;
  /** The owner's connection, for seeding and for tampering (the same as `knex` unless a variant says otherwise). */
  admin: Knex;
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

const asVariant = (which: DatabaseKind | DatabaseVariant): DatabaseVariant =>
  typeof which === "string" ? { name: which, kind: which } : which;

export async function openTestDatabase(
  which: DatabaseKind | DatabaseVariant,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const variant = asVariant(which);
  let scratch: ScratchDatabase | undefined;
  let admin: Knex;
  if (variant.kind === "postgres") {
    scratch = await createScratchPostgres(postgresServerUrl(), {
      prefix: "sas_test",
      ...(options.collation ? { collation: options.collation } : {}),
    });
    admin = scratch.knex;
  } else {
    admin = openSqlite(":memory:");
  }
  if (options.schema !== false) {
    await createSynapseSchema(admin, typeof options.schema === "object" ? options.schema : {});
    await insertAccounts(admin, STANDARD_ACCOUNTS);
    if (variant.summary) await installMediaUsageSummary(admin);
  }
  let reader = admin;
  let dropRole = async (): Promise<void> => undefined;
  if (variant.selectOnlyRole && scratch) {
    const role = await createSelectOnlyRole(admin, scratch);
    reader = openPostgres(role.url);
    dropRole = role.drop;
  }
  return {
    kind: variant.kind,
    knex: reader,
    admin,
    url: scratch?.url,
    close: async () => {
      if (reader !== admin) await reader.destroy();
      if (scratch) await scratch.drop();
      else await admin.destroy();
      await dropRole();
    },
  };
}

/**
 * A login role that may read every table of the database's public schema, including tables
 * the owner creates later, and do nothing else.
 */
async function createSelectOnlyRole(
  admin: Knex,
  scratch: ScratchDatabase,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const role = `${scratch.name}_reader`;
  const password = randomBytes(9).toString("base64url");
  await admin.raw(`CREATE ROLE ?? LOGIN PASSWORD '${password}'`, [role]);
  await admin.raw("GRANT CONNECT ON DATABASE ?? TO ??", [scratch.name, role]);
  await admin.raw("GRANT USAGE ON SCHEMA public TO ??", [role]);
  await admin.raw("GRANT SELECT ON ALL TABLES IN SCHEMA public TO ??", [role]);
  await admin.raw("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ??", [role]);
  const url = new URL(scratch.url);
  url.username = role;
  url.password = password;
  return {
    url: url.toString(),
    drop: async () => {
      // The database is gone by now, and with it every grant: only the role is left.
      const server = openPostgres(postgresServerUrl(), { min: 0, max: 1 });
      try {
        await server.raw("DROP ROLE IF EXISTS ??", [role]);
      } finally {
        await server.destroy();
      }
    },
  };
}

/**
 * A database for the surrounding describe block: opened (and seeded by `seed`, through the
 * owner's connection) before its tests, closed after. Read `.current` inside tests.
 */
export function useTestDatabase(
  which: DatabaseKind | DatabaseVariant,
  seed: (knex: Knex) => Promise<void> = async () => undefined,
  options: TestDatabaseOptions = {},
): { readonly current: TestDatabase } {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await openTestDatabase(which, options);
    await seed(database.admin);
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

/**
 * Holds an ACCESS EXCLUSIVE lock on a PostgreSQL table, so that every query on it waits, until
 * the returned function releases it.
 */
export async function lockTable(knex: Knex, table: string): Promise<() => Promise<void>> {
  const trx = await knex.transaction();
  await trx.raw("LOCK TABLE ?? IN ACCESS EXCLUSIVE MODE", [table]);
  return async () => {
    await trx.commit();
  };
}
