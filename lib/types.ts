// The public types: the router's options, what `authCheck` answers, and the response bodies.

import type { Request } from "express";
import type { Knex } from "knex";
import type { Logger } from "./logger";

/** Who sent a request, as `authCheck` resolves the access token. */
export interface Requester {
  /** The full Matrix user ID, e.g. `@alice:example.org`. */
  userId: string;
  /** Whether the user is a server admin; only admins may call the statistics endpoints. */
  admin: boolean;
  /**
   * Whether the user is a guest (Synapse's `users.is_guest`). A guest is refused with 403
   * M_GUEST_ACCESS_FORBIDDEN before its admin flag is looked at, as Synapse refuses it.
   * Default: `false`.
   */
  guest?: boolean;
}

/**
 * Resolves an access token to the requester, or to `null` when the token is unknown (answered
 * 401 M_UNKNOWN_TOKEN). A guest is answered 403 M_GUEST_ACCESS_FORBIDDEN, any other
 * non-admin 403 M_FORBIDDEN. May return the value or a promise of it. A value of any other
 * shape is answered 500 M_UNKNOWN, and logged without the token. A throw is answered 500
 * M_UNKNOWN too, except a `MatrixError`, which is answered as it is (status, errcode, message
 * and headers): that is how a check gives a deliberate answer of its own, such as
 * `synapseDelegatedAuth`'s 503 when Synapse cannot be asked. Throw one only with a message
 * that is safe to show the client.
 */
export type AuthCheck = (
  accessToken: string,
  req: Request,
) => Requester | null | Promise<Requester | null>;

/**
 * How the largest-rooms endpoint estimates each room's share of the database:
 * - `planner`: Synapse's own arithmetic on PostgreSQL's planner statistics (`pg_stats`); the
 *   same numbers as Synapse, as fresh as the last ANALYZE of each table.
 * - `sample`: a page sample of about 30,000 rows per room table, each row weighted by its
 *   bytes; reads the tables as they are now.
 */
export type RoomsEstimator = "planner" | "sample";

/** Options of `createStatisticsRouter`. */
export interface StatisticsRouterOptions {
  /** The main Synapse database (PostgreSQL through `pg`, or SQLite). Required. */
  knex: Knex;
  /** Resolves access tokens; see `synapseAccessTokenAuth` for Synapse's own tables. Required. */
  authCheck: AuthCheck;
  /**
   * The Synapse state database, where `state_groups_state` lives, when it is split off from
   * the main one. Must be PostgreSQL. Default: the main database.
   */
  stateKnex?: Knex;
  /**
   * Send Synapse's CORS headers on every response of the router and answer `OPTIONS`
   * preflights on its paths with 200. Turn off when the host app does CORS itself.
   * Default: `true`.
   */
  cors?: boolean;
  /** Where details of unexpected failures go (never to the client). Default: stderr. */
  logger?: Logger;
  /**
   * The estimator of `GET /v1/statistics/database/rooms` when the request does not choose one
   * with its `estimator` query parameter. Default: `"planner"` (Synapse's numbers).
   */
  roomsEstimator?: RoomsEstimator;
  /**
   * The PostgreSQL statement timeout, in milliseconds, of each statement of the `sample`
   * estimator; a sample that takes longer is a 500 (and a log line naming this option).
   * A positive integer, at most 2147483647. Default: `10000`.
   */
  sampleStatementTimeoutMs?: number;
  /**
   * Serve this package's own storage endpoints beside Synapse's (the overview, remote media
   * by origin, largest media), under `/io.github.synapse-admin-statistics/v1/storage/`.
   * Default: `true`.
   */
  storageEndpoints?: boolean;
  /**
   * How many requests may read a database at once, per database (main, and state when split
   * off). Each holds one connection while it runs; the rest wait in a queue. Default: the
   * database's knex pool size minus 2 (at least 1), so that token lookups sharing the pool
   * still find a connection.
   */
  maxConcurrentQueries?: number;
  /**
   * How many more requests may wait for their turn, per database; beyond that a request is
   * answered 503 M_UNKNOWN with Retry-After at once. 0 means no queue. Default: twice
   * `maxConcurrentQueries`, at least 4.
   */
  maxQueuedQueries?: number;
  /**
   * How long a request may wait in that queue, in milliseconds, before it is answered 503
   * M_UNKNOWN with Retry-After. Default: `10000`.
   */
  queueTimeoutMs?: number;
}

/** The columns `GET /v1/statistics/users/media` sorts by (`order_by`). */
export type UsersMediaOrder = "user_id" | "displayname" | "media_length" | "media_count";

/** One row of the users' media statistics. */
export interface UserMediaUsage {
  user_id: string;
  /** `null` when the user has no profile or no displayname. */
  displayname: string | null;
  media_count: number;
  /** Total bytes; media of unknown length count as 0. */
  media_length: number;
}

/** The body of `GET /v1/statistics/users/media`. */
export interface UsersMediaResponse {
  users: UserMediaUsage[];
  /** How many users match the filters, over all pages. */
  total: number;
  /** The `from` of the next page; present only when there is one. */
  next_token?: number;
}

/** The body of `GET /v1/statistics/database/rooms`. */
export interface LargestRoomsResponse {
  /** At most 10 rooms, largest first; ties by room_id in byte order. Sizes are bytes. */
  rooms: Array<{ room_id: string; estimated_size: number }>;
}
