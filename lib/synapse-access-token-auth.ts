// An authCheck over Synapse's own tables, for apps that share Synapse's database.

import type { Knex } from "knex";
import { isKnexInstance } from "./dialect";
import { InternalFailure } from "./errors";
import { findAccessTokenOwner } from "./storage/access-tokens";
import type { AuthCheck } from "./types";

/**
 * Resolves a token through Synapse's `access_tokens` and `users` tables. An unknown token, a
 * token past its `valid_until_ms`, and a token of a deactivated or locked user all resolve to
 * `null`; a guest's (`users.is_guest`) resolves with `guest: true`, which the router refuses.
 * An admin's "login as user" token acts as the user it impersonates, as in Synapse. A failed
 * lookup is logged as "token lookup failed", with the database's reason.
 */
export function synapseAccessTokenAuth(db: Knex, now: () => number = Date.now): AuthCheck {
  if (!isKnexInstance(db)) {
    throw new TypeError("synapseAccessTokenAuth: the argument must be a knex instance");
  }
  return async (accessToken) => {
    // No stored token holds a NUL, and PostgreSQL refuses one in a text parameter outright.
    if (accessToken.includes("\0")) return null;
    let owner;
    try {
      owner = await findAccessTokenOwner(db, accessToken);
    } catch (error) {
      throw new InternalFailure("token lookup failed", {}, error);
    }
    if (owner === undefined) return null;
    if (owner.validUntilMs !== null && owner.validUntilMs < now()) return null;
    if (owner.deactivated || owner.locked) return null;
    return { userId: owner.userId, admin: owner.admin, guest: owner.guest };
  };
}
