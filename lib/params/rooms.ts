// The largest-rooms parameters in one JSON schema. Synapse's endpoint takes none; `estimator`
// is this package's extension, which Synapse clients never send and so never see.

import type { JSONSchemaType } from "ajv";
import type { RawQuery } from "../http/query-string";
import type { RoomsEstimator } from "../types";
import { ajv } from "./ajv";
import { parseQuery } from "./parse";

export interface RoomsQuery {
  estimator?: RoomsEstimator;
}

export const roomsQuerySchema = {
  type: "object",
  properties: {
    estimator: {
      type: "string",
      nullable: true,
      enum: ["planner", "sample"],
      description:
        "planner: Synapse's estimate from PostgreSQL's planner statistics; sample: a small page " +
        "sample of each room table, right even when the statistics are stale. Default: the " +
        "router's roomsEstimator option (planner unless set).",
    },
  },
  required: [],
} satisfies JSONSchemaType<RoomsQuery>;

const validate = ajv.compile<RoomsQuery>(roomsQuerySchema);

/** The typed parameters of a largest-rooms request, or a 400 M_INVALID_PARAM. */
export function parseRoomsQuery(query: RawQuery): RoomsQuery {
  return parseQuery(query, roomsQuerySchema, validate);
}
