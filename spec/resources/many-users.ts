// Many users with media, generated inside the database in one statement (thousands of times
// faster than inserting row by row), for the specs that need requests heavy enough to queue.

import type { Knex } from "knex";
import {
  createSynapseSchema,
  fixtureDialect,
  insertAccounts,
  openSqlite,
  STANDARD_ACCOUNTS,
} from "../../fixtures";

export interface ManyUsersOptions {
  users: number;
  /** Media rows in all, spread round-robin over the users. */
  media: number;
  /** Every third user gets a profile, so both join outcomes occur. */
  profiles?: boolean;
}

/** `@user<n>:many.test`, n from 0. */
export const manyUserId = (n: number): string => `@user${n}:many.test`;

/** Inserts the media rows (and profiles) into Synapse's tables, which must be empty. */
export async function insertManyUsers(db: Knex, options: ManyUsersOptions): Promise<void> {
  const numbers =
    fixtureDialect(db) === "postgres"
      ? "SELECT g AS n FROM generate_series(0, ? - 1) AS g"
      : "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?) SELECT n FROM seq";
  await db.raw(
    `INSERT INTO local_media_repository (media_id, media_type, media_length, created_ts, upload_name, user_id)
     SELECT 'many' || n, 'image/png', (n * 7919) % 1000000, 1700000000000 + n, 'file', '@user' || (n % ?) || ':many.test'
       FROM (${numbers}) AS numbers`,
    [options.users, options.media],
  );
  if (options.profiles !== false) {
    await db.raw(
      `INSERT INTO profiles (user_id, displayname, full_user_id)
       SELECT 'user' || n, 'User ' || n, '@user' || n || ':many.test'
         FROM (${numbers}) AS numbers WHERE n % 3 = 0`,
      [options.users],
    );
  }
  await db.raw("ANALYZE");
}

/** A SQLite file holding Synapse's tables, the standard accounts and `options`' users. */
export async function createManyUsersSqliteFile(
  path: string,
  options: ManyUsersOptions,
): Promise<void> {
  const file = openSqlite(path);
  try {
    await createSynapseSchema(file);
    await insertAccounts(file, STANDARD_ACCOUNTS);
    await insertManyUsers(file, options);
  } finally {
    await file.destroy();
  }
}
