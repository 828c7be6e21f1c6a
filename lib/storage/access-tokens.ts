// The SQL behind synapseAccessTokenAuth.

import type { Knex } from "knex";

export interface AccessTokenOwner {
  userId: string;
  admin: boolean;
  deactivated: boolean;
  validUntilMs: number | null;
}

interface OwnerRow {
  name: string;
  admin: number | string | boolean | null;
  deactivated: number | string | boolean | null;
  valid_until_ms: number | string | null;
}

export async function findAccessTokenOwner(
  db: Knex,
  token: string,
): Promise<AccessTokenOwner | undefined> {
  const row = await db
    .select<OwnerRow[]>("u.name", "u.admin", "u.deactivated", "t.valid_until_ms")
    .from("access_tokens as t")
    .join("users as u", "u.name", "t.user_id")
    .where("t.token", token)
    .first();
  if (row === undefined) return undefined;
  return {
    userId: row.name,
    // SMALLINT 0/1 in Synapse's schema; drivers may hand back numbers, strings or booleans.
    admin: isSet(row.admin),
    deactivated: isSet(row.deactivated),
    validUntilMs: row.valid_until_ms === null ? null : Number(row.valid_until_ms),
  };
}

const isSet = (flag: number | string | boolean | null): boolean =>
  flag !== null && flag !== false && Number(flag) !== 0;
