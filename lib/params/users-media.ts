// Every rule for the users' media parameters, in one JSON schema: it validates requests, types
// the handler's input and feeds the OpenAPI document. Properties are in the order Synapse
// checks them, so the first error reported is the same.

import type { JSONSchemaType } from "ajv";
import type { RawQuery } from "../http/query-string";
import type { UsersMediaOrder } from "../types";
import { ajv } from "./ajv";
import { parseQuery, type RuleMessages } from "./parse";

export interface UsersMediaQuery {
  order_by: UsersMediaOrder;
  from: number;
  limit: number;
  from_ts: number;
  until_ts?: number;
  search_term?: string;
  dir: "f" | "b";
}

/** Longer than any localpart or displayname Synapse stores (256 characters at most). */
export const SEARCH_TERM_MAX_LENGTH = 1000;

export const usersMediaQuerySchema = {
  type: "object",
  properties: {
    order_by: {
      type: "string",
      // Synapse's order, which its error message lists.
      enum: ["media_length", "media_count", "user_id", "displayname"],
      default: "user_id",
      description: "The column to sort by; ties are broken by user_id in the same direction.",
    },
    from: {
      type: "integer",
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      default: 0,
      description: "Offset of the first user to return (the next_token of the previous page).",
    },
    limit: {
      type: "integer",
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      default: 100,
      description: "Maximum number of users to return.",
    },
    from_ts: {
      type: "integer",
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      default: 0,
      description:
        "Only media created at or after this time (ms since the epoch); 0 means no lower bound.",
    },
    until_ts: {
      type: "integer",
      nullable: true,
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      exclusiveMinimum: { $data: "1/from_ts" } as unknown as number,
      description: "Only media created at or before this time (ms); must be greater than from_ts.",
    },
    search_term: {
      type: "string",
      nullable: true,
      minLength: 1,
      maxLength: SEARCH_TERM_MAX_LENGTH,
      pattern: "^[^\\u0000]*$",
      description:
        "Only users whose localpart or displayname contains this text (ASCII letters match either case; % and _ are literal).",
    },
    dir: {
      type: "string",
      enum: ["f", "b"],
      default: "f",
      description: "f: ascending, b: descending (exactly the reverse order, ties included).",
    },
  },
  required: ["order_by", "from", "limit", "from_ts", "dir"],
} satisfies JSONSchemaType<UsersMediaQuery>;

const messages: RuleMessages = {
  until_ts: { exclusiveMinimum: "Query parameter until_ts must be greater than from_ts." },
  search_term: { pattern: "Query parameter search_term must not contain a NUL character." },
};

const validate = ajv.compile<UsersMediaQuery>(usersMediaQuerySchema);

/** The typed parameters of a users' media request, or a 400 M_INVALID_PARAM. */
export function parseUsersMediaQuery(query: RawQuery): UsersMediaQuery {
  return parseQuery(query, usersMediaQuerySchema, validate, messages);
}
