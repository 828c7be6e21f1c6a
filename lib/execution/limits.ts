// The admission limits of one database: what the router's options say, or defaults sized to
// the database's connection pool.

import type { Knex } from "knex";
import { detectDialect } from "../dialect";
import type { AdmissionLimits } from "./admission";

export interface AdmissionOptions {
  maxConcurrentQueries: number | undefined;
  maxQueuedQueries: number | undefined;
  queueTimeoutMs: number;
}

/** How long a request may wait for its turn, unless told otherwise. */
export const DEFAULT_QUEUE_TIMEOUT_MS = 10_000;

/**
 * Connections left to token lookups and other light work: heavy requests take the rest of
 * the pool, and at least one.
 */
const RESERVED_CONNECTIONS = 2;

export function admissionLimits(db: Knex, options: AdmissionOptions): AdmissionLimits {
  const maxConcurrent =
    options.maxConcurrentQueries ?? Math.max(1, poolSize(db) - RESERVED_CONNECTIONS);
  return {
    maxConcurrent,
    maxQueued: options.maxQueuedQueries ?? defaultMaxQueued(maxConcurrent),
    queueTimeoutMs: options.queueTimeoutMs,
  };
}

/** Twice as many as may run, and at least 4: a short queue, that drains in two turns. */
export const defaultMaxQueued = (maxConcurrent: number): number => Math.max(4, 2 * maxConcurrent);

/** The most connections the knex pool of `db` opens. */
export function poolSize(db: Knex): number {
  const client = db.client as {
    pool?: { max?: unknown } | null;
    config?: { pool?: { max?: unknown } };
  };
  const max = client.pool?.max ?? client.config?.pool?.max;
  if (typeof max === "number" && Number.isInteger(max) && max > 0) return max;
  // knex's own defaults: one connection for SQLite, ten otherwise.
  return detectDialect(db) === "sqlite" ? 1 : 10;
}
