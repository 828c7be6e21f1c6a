// What `report --json` prints: one document that scripts and cron jobs can rely on. Each part is
// the answer of an endpoint for a fixed request (the same types, the same schemas), so a script
// written against the API reads the report the same way.

import { largestRoomsResponseSchema, usersMediaResponseSchema } from "./responses";
import { remoteOriginsResponseSchema, storageOverviewResponseSchema } from "./storage-responses";
import type { RemoteOriginUsage, StorageOverview } from "./storage-types";
import type { LargestRoomsResponse, UserMediaUsage } from "./types";

/** Bumped when a field of the document changes meaning or goes away (new fields may come). */
export const STORAGE_REPORT_VERSION = 1;

/** How many uploaders and origins the report lists. */
export const REPORT_TOP = 10;

/** A figure the report could not give on this database, and why. */
export interface UnavailableFigure {
  /** Where it would be in the document: `largest_rooms`, `overview.database.main.largest_tables`. */
  figure: string;
  reason: string;
}

/** The document `synapse-admin-statistics report --json` prints. */
export interface StorageReport {
  /** The version of this shape: STORAGE_REPORT_VERSION. */
  report_version: 1;
  /** The databases read, as given on the command line, any password masked. */
  source: { database: string; state_database: string | null };
  /** The answer of `GET …/v1/storage/overview`. */
  overview: StorageOverview;
  /**
   * The answer of `GET /v1/statistics/database/rooms` (the `planner` estimate); `null` where
   * it is unavailable (SQLite), with the reason in `unavailable`.
   */
  largest_rooms: LargestRoomsResponse | null;
  /**
   * The answer of `GET /v1/statistics/users/media?order_by=media_length&dir=b&limit=10`,
   * without `next_token`: the ten uploaders with the most bytes, and how many uploaders there are.
   */
  top_uploaders: { users: UserMediaUsage[]; total: number };
  /**
   * The answer of `GET …/v1/storage/remote_media/origins?order_by=media_length&dir=b&limit=10`,
   * without `next_token`.
   */
  top_origins: { origins: RemoteOriginUsage[]; total: number };
  /** Every figure this database cannot give, and why. Empty when nothing is missing. */
  unavailable: UnavailableFigure[];
  /** What the reader should know about the figures beyond the overview's own `notes`. */
  notes: string[];
}

/** The first page of a paged answer, without `next_token`: the report never pages on. */
const firstPage = (name: string, page: { properties: Record<string, object> }) =>
  ({
    type: "object",
    properties: {
      [name]: { ...page.properties[name], maxItems: REPORT_TOP },
      total: page.properties.total,
    },
    required: [name, "total"],
    additionalProperties: false,
  }) as const;

const text = { type: "string" } as const;

/** The JSON schema of StorageReport: the one source scripts can validate a report against. */
export const storageReportSchema = {
  title: "synapse-admin-statistics report",
  type: "object",
  properties: {
    report_version: { const: STORAGE_REPORT_VERSION },
    source: {
      type: "object",
      properties: { database: text, state_database: { type: ["string", "null"] } },
      required: ["database", "state_database"],
      additionalProperties: false,
    },
    overview: storageOverviewResponseSchema,
    largest_rooms: { anyOf: [largestRoomsResponseSchema, { type: "null" }] },
    top_uploaders: firstPage("users", usersMediaResponseSchema),
    top_origins: firstPage("origins", remoteOriginsResponseSchema),
    unavailable: {
      type: "array",
      items: {
        type: "object",
        properties: { figure: text, reason: text },
        required: ["figure", "reason"],
        additionalProperties: false,
      },
    },
    notes: { type: "array", items: text },
  },
  required: [
    "report_version",
    "source",
    "overview",
    "largest_rooms",
    "top_uploaders",
    "top_origins",
    "unavailable",
    "notes",
  ],
  additionalProperties: false,
} as const;
