// Every rule for the remote-origins parameters, in one JSON schema: paging and sorting as the
// users' media endpoint has them, and a search on the origin.

import type { JSONSchemaType } from "ajv";
import type { RawQuery } from "../http/query-string";
import type { RemoteOriginsOrder } from "../storage-types";
import { ajv } from "./ajv";
import { parseQuery } from "./parse";
import {
  directionParameter,
  identifierParameter,
  limitParameter,
  offsetParameter,
  sharedMessages,
} from "./shared";

export interface RemoteOriginsQuery {
  order_by: RemoteOriginsOrder;
  from: number;
  limit: number;
  search_term?: string;
  dir: "f" | "b";
}

export const remoteOriginsQuerySchema = {
  type: "object",
  properties: {
    order_by: {
      type: "string",
      enum: ["origin", "media_count", "media_length"],
      default: "origin",
      description: "The column to sort by; ties are broken by origin in the same direction.",
    },
    from: offsetParameter("origin"),
    limit: limitParameter("origins"),
    search_term: identifierParameter(
      "Only origins containing this text (ASCII letters match either case; % and _ are literal).",
    ),
    dir: directionParameter,
  },
  required: ["order_by", "from", "limit", "dir"],
} satisfies JSONSchemaType<RemoteOriginsQuery>;

const validate = ajv.compile<RemoteOriginsQuery>(remoteOriginsQuerySchema);

/** The typed parameters of a remote-origins request, or a 400 M_INVALID_PARAM. */
export function parseRemoteOriginsQuery(query: RawQuery): RemoteOriginsQuery {
  return parseQuery(query, remoteOriginsQuerySchema, validate, sharedMessages("search_term"));
}
