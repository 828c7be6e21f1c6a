// Parameter definitions the storage endpoints share, each with Synapse's rules for the same
// name (integers by pattern, not by coercion; `from_ts` 0 means no bound), in one place.

import type { RuleMessages } from "./parse";

/** No NUL character: PostgreSQL cannot bind one in text, and no Matrix identifier holds one. */
export const NO_NUL_PATTERN = "^[^\\u0000]*$";

/** Longer than any server name or user ID Synapse stores (255 characters at most). */
export const IDENTIFIER_MAX_LENGTH = 1000;

/** `from`: the offset of a page, the `next_token` of the one before. */
export const offsetParameter = (items: string) =>
  ({
    type: "integer",
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    default: 0,
    description: `Offset of the first ${items} to return (the next_token of the previous page).`,
  }) as const;

/** `limit`: the size of a page. */
export const limitParameter = (items: string) =>
  ({
    type: "integer",
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    default: 100,
    description: `Maximum number of ${items} to return.`,
  }) as const;

/** `from_ts`: an inclusive lower bound on `created_ts`. */
export const fromTsParameter = (what: string) =>
  ({
    type: "integer",
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    default: 0,
    description: `Only ${what} at or after this time (ms since the epoch); 0 means no lower bound.`,
  }) as const;

/** `until_ts`: an inclusive upper bound on `created_ts`, above `from_ts`. */
export const untilTsParameter = (what: string) =>
  ({
    type: "integer",
    nullable: true,
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    // ajv's $data reference: the value of from_ts beside it.
    exclusiveMinimum: { $data: "1/from_ts" } as unknown as number,
    description: `Only ${what} at or before this time (ms); must be greater than from_ts.`,
  }) as const;

/** A text parameter that names something: not empty, not absurdly long, no NUL. */
export const identifierParameter = (description: string) =>
  ({
    type: "string",
    nullable: true,
    minLength: 1,
    maxLength: IDENTIFIER_MAX_LENGTH,
    pattern: NO_NUL_PATTERN,
    description,
  }) as const;

/** `dir`: forwards or backwards. */
export const directionParameter = {
  type: "string",
  enum: ["f", "b"],
  default: "f",
  description: "f: ascending, b: descending (exactly the reverse order, ties included).",
} as const;

/** Messages for the rules these definitions carry beyond ajv's keywords. */
export const sharedMessages = (...names: string[]): RuleMessages =>
  Object.fromEntries([
    ["until_ts", { exclusiveMinimum: "Query parameter until_ts must be greater than from_ts." }],
    ...names.map((name) => [
      name,
      { pattern: `Query parameter ${name} must not contain a NUL character.` },
    ]),
  ]);
