// Turns raw query parameters into typed values by an endpoint's JSON schema, answering the
// first broken rule with Synapse's 400 M_INVALID_PARAM wording.

import type { ErrorObject, ValidateFunction } from "ajv";
import { invalidParam } from "../errors";
import type { RawQuery } from "../http/query-string";

/**
 * What Synapse's `int()` should have accepted: an optional minus and ASCII digits, nothing
 * else (no `+`, spaces, underscores, exponents, hex or fractions).
 */
export const INTEGER_PATTERN = /^-?[0-9]+$/;

/** The part of a JSON schema this parser reads: each property's type. */
export interface QuerySchema {
  properties: Record<string, { type: string | readonly string[] }>;
}

/** Messages for an endpoint's own rules, by parameter and then by schema keyword. */
export type RuleMessages = Record<string, Record<string, string>>;

/**
 * Reads every parameter the schema names (first value of each; unknown ones are ignored),
 * converts the integer ones, and validates the result. Properties are checked in the
 * schema's order, so the first broken rule reported is the one Synapse reports.
 */
export function parseQuery<T>(
  query: RawQuery,
  schema: QuerySchema,
  validate: ValidateFunction<T>,
  messages: RuleMessages = {},
): T {
  const data: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties)) {
    const raw = query.first(name);
    if (raw === undefined) continue;
    data[name] = property.type === "integer" ? toInteger(raw) : raw;
  }
  if (!validate(data)) {
    throw invalidParam(messageFor(validate.errors?.[0], messages));
  }
  return data as T;
}

/**
 * A strict integer, or the text itself so that the schema's `type: integer` rejects it.
 * Beyond 2^53 a number would silently round, so such text is rejected too.
 */
function toInteger(raw: string): number | string {
  if (!INTEGER_PATTERN.test(raw)) return raw;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : raw;
}

function messageFor(error: ErrorObject | undefined, messages: RuleMessages): string {
  if (error === undefined) return "Invalid query parameter";
  const name = error.instancePath.replace(/^\//, "");
  const own = messages[name]?.[error.keyword];
  if (own !== undefined) return own;
  switch (error.keyword) {
    case "type":
      return error.params.type === "integer"
        ? `Query parameter ${name} must be an integer`
        : `Query parameter ${name} must be a ${String(error.params.type)}`;
    case "minimum":
      return `Query parameter ${name} must be a positive integer.`;
    case "maximum":
      return `Query parameter ${name} must be an integer`;
    case "enum":
      return `Query parameter '${name}' must be one of [${(error.params.allowedValues as string[])
        .map((value) => `'${value}'`)
        .join(", ")}]`;
    case "minLength":
      return `Query parameter ${name} cannot be an empty string.`;
    case "maxLength":
      return `Query parameter ${name} must be at most ${String(error.params.limit)} characters`;
    default:
      return `Query parameter ${name} is invalid`;
  }
}
