// Every rule for the largest-media parameters, in one JSON schema: which table, paging, the
// uploader (local) or origin (remote), and a time window on created_ts as users/media has it.

import type { JSONSchemaType } from "ajv";
import type { RawQuery } from "../http/query-string";
import type { MediaSource } from "../storage-types";
import { ajv } from "./ajv";
import { parseQuery, type RuleMessages } from "./parse";
import {
  fromTsParameter,
  identifierParameter,
  limitParameter,
  offsetParameter,
  sharedMessages,
  untilTsParameter,
} from "./shared";

export interface LargestMediaQuery {
  source: MediaSource;
  from: number;
  limit: number;
  user_id?: string;
  origin?: string;
  from_ts: number;
  until_ts?: number;
}

export const largestMediaQuerySchema = {
  type: "object",
  properties: {
    source: {
      type: "string",
      enum: ["local", "remote"],
      default: "local",
      description: "local: media uploaded here; remote: the cache of other servers' media.",
    },
    from: offsetParameter("media"),
    limit: limitParameter("media"),
    user_id: identifierParameter(
      "Only media this user uploaded (exact user ID); local media only.",
    ),
    origin: identifierParameter(
      "Only media of this server (exact server name); remote media only (source=remote).",
    ),
    from_ts: fromTsParameter("media created (remote: fetched)"),
    until_ts: untilTsParameter("media created (remote: fetched)"),
  },
  required: ["source", "from", "limit", "from_ts"],
  // An uploader only makes sense of local media, an origin of remote media: a filter that
  // cannot apply is refused rather than ignored.
  if: { properties: { source: { const: "remote" } }, required: ["source"] },
  then: { properties: { user_id: false } },
  else: { properties: { origin: false } },
} satisfies JSONSchemaType<LargestMediaQuery>;

const messages: RuleMessages = sharedMessages("user_id", "origin");
messages.user_id = {
  ...messages.user_id,
  "false schema":
    "Query parameter user_id filters local media: it cannot be used with source=remote.",
};
messages.origin = {
  ...messages.origin,
  "false schema": "Query parameter origin filters remote media: it needs source=remote.",
};

const validate = ajv.compile<LargestMediaQuery>(largestMediaQuerySchema);

/** The typed parameters of a largest-media request, or a 400 M_INVALID_PARAM. */
export function parseLargestMediaQuery(query: RawQuery): LargestMediaQuery {
  return parseQuery(query, largestMediaQuerySchema, validate, messages);
}
