// An authCheck over Synapse's own tables, for apps that share Synapse's database.

import type { Knex } from "knex";
import { isKnexInstance } from "./dialect";
import { InternalFailure, MatrixError } from "./errors";
import { retryTransient } from "./execution/transient";
import { consoleLogger, type Logger } from "./logger";
import { isLogger } from "./options";
import { findAccessTokenOwner } from "./storage/access-tokens";
import type { AuthCheck } from "./types";

/** Options of `synapseAccessTokenAuth`. */
export interface SynapseAccessTokenAuthOptions {
  /**
   * Where the warning about a retried lookup goes (a hot standby's recovery conflict, a
   * dropped connection), at most once per cause every ten minutes. Default: stderr.
   */
  logger?: Logger;
}

/**
 * Resolves a token through Synapse's `access_tokens` and `users` tables. An unknown token, a
 * token past its `valid_until_ms`, and a token of a deactivated or locked user all resolve to
 * `null`; a guest's (`users.is_guest`) resolves with `guest: true`, which the router refuses.
 * An admin's "login as user" token acts as the user it impersonates, as in Synapse. A lookup
 * that fails on a recovery conflict or a dropped connection is tried again; one that still
 * fails, or finds the database unreachable, is a 503 with Retry-After. Any other failure is
 * logged as "token lookup failed", with the database's reason.
 */
export function synapseAccessTokenAuth(
  db: Knex,
  options: SynapseAccessTokenAuthOptions = {},
  now: () => number = Date.now,
): AuthCheck {
  if (!isKnexInstance(db)) {
    throw new TypeError("synapseAccessTokenAuth: the argument must be a knex instance");
  }
  if (options.logger !== undefined && !isLogger(options.logger)) {
    throw new TypeError(
      'synapseAccessTokenAuth: option "logger" must have error, warn and info methods',
    );
  }
  const logger = options.logger ?? consoleLogger;
  return async (accessToken) => {
    // No stored token holds a NUL, and PostgreSQL refuses one in a text parameter outright.
    if (accessToken.includes("\0")) return null;
    let owner;
    try {
      owner = await retryTransient(() => findAccessTokenOwner(db, accessToken), { logger });
    } catch (error) {
      if (error instanceof MatrixError) throw error;
      throw new InternalFailure("token lookup failed", {}, error);
    }
    if (owner === undefined) return null;
    if (owner.validUntilMs !== null && owner.validUntilMs < now()) return null;
    if (owner.deactivated || owner.locked) return null;
    return { userId: owner.userId, admin: owner.admin, guest: owner.guest };
  };
}
