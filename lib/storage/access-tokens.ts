// The SQL behind synapseAccessTokenAuth.

import type { Knex } from "knex";

export interface AccessTokenOwner {
  /** Who the token acts as: the user it impersonates for an admin's "login as user" token. */
  userId: string;
  admin: boolean;
  /** `users.is_guest`. */
  guest: boolean;
  deactivated: boolean;
  /** `users.locked` (Synapse 1.93+); false on databases without the column. */
  locked: boolean;
  validUntilMs: number | null;
}

interface OwnerRow {
  name: string;
  admin: number | string | boolean | null;
  is_guest: number | string | boolean | null;
  deactivated: number | string | boolean | null;
  locked?: number | string | boolean | null;
  valid_until_ms: number | string | null;
}

// Whether `users.locked` exists, learnt once per database: older Synapse schemas lack it.
const lockedColumn = new WeakMap<Knex, Promise<boolean>>();

function hasLockedColumn(db: Knex): Promise<boolean> {
  let known = lockedColumn.get(db);
  if (known === undefined) {
    // A knex builder runs its query again on every then(): keep a promise of its one answer.
    known = Promise.resolve(db.schema.hasColumn("users", "locked"));
    lockedColumn.set(db, known);
    known.catch(() => lockedColumn.delete(db));
  }
  return known;
}

export async function findAccessTokenOwner(
  db: Knex,
  token: string,
): Promise<AccessTokenOwner | undefined> {
  const columns = ["u.name", "u.admin", "u.is_guest", "u.deactivated", "t.valid_until_ms"];
  if (await hasLockedColumn(db)) columns.push("u.locked");
  // As Synapse does: an admin's "login as user" token (puppets_user_id) acts as that user,
  // with that user's rights, not its admin owner's.
  const row = await db
    .select<OwnerRow[]>(columns)
    .from("access_tokens as t")
    .join("users as u", "u.name", db.raw("COALESCE(t.puppets_user_id, t.user_id)"))
    .where("t.token", token)
    .first();
  if (row === undefined) return undefined;
  return {
    userId: row.name,
    // SMALLINT 0/1 in Synapse's schema; drivers may hand back numbers, strings or booleans.
    admin: isSet(row.admin),
    guest: isSet(row.is_guest),
    deactivated: isSet(row.deactivated),
    locked: isSet(row.locked ?? null),
    validUntilMs: row.valid_until_ms === null ? null : Number(row.valid_until_ms),
  };
}

const isSet = (flag: number | string | boolean | null): boolean =>
  flag !== null && flag !== false && Number(flag) !== 0;
