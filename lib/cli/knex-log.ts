// knex's own warnings and errors (a connection that failed, a pool in trouble), forwarded to the
// service's logger as one line each: no stack, and none of the SQL text or bound values knex
// may put in them (a bound value may be an access token).

import type { Knex } from "knex";
import type { Logger } from "../logger";
import { describeError } from "../logger";
import { looksLikeToken, maskCredentials, REDACTED } from "../redact";

// What a statement looks like, in the few shapes knex and the drivers quote them.
const SQL_TEXT =
  /\bselect\b[\s\S]*\bfrom\b|\binsert\s+into\b|\bupdate\s+\S+\s+set\b|\bdelete\s+from\b|\bset\s+(?:session|statement_timeout|application_name)\b|\bpragma\b/i;

/** The log settings to give knex: every message through `logger`, made safe first. */
export function knexLog(logger: Logger): Knex.Config["log"] {
  return {
    warn: (message: unknown) => logger.warn({}, describeKnexMessage(message)),
    error: (message: unknown) => logger.error({}, describeKnexMessage(message)),
    // knex passes its deprecation notice as one formatted text, whatever its types say.
    deprecate: (message: unknown) => logger.warn({}, describeKnexMessage(message)),
    debug: () => undefined,
  };
}

/**
 * One line of what knex said. Its messages are a label and a cause ("Acquire connection error:
 * error: ..."); a failed query's cause is its SQL, then ` - `, then the reason, and only the
 * reason is kept. Whatever still reads as SQL is left out; token-shaped words are masked.
 */
export function describeKnexMessage(message: unknown): string {
  const text =
    message instanceof Error
      ? String(describeError(message).message ?? message.name)
      : (String(message).split("\n", 1)[0] ?? "");
  const colon = text.indexOf(": ");
  const label = colon > 0 && colon <= 40 ? text.slice(0, colon) : undefined;
  let cause = label === undefined ? text : text.slice(colon + 2);
  const separator = cause.lastIndexOf(" - ");
  if (separator >= 0) cause = cause.slice(separator + 3);
  if (SQL_TEXT.test(cause)) cause = "(statement text left out)";
  const safe = maskCredentials(cause)
    .slice(0, 300)
    .split(" ")
    .map((word) => (looksLikeToken(word) ? REDACTED : word))
    .join(" ");
  return `knex: ${label === undefined ? safe : `${label}: ${safe}`}`;
}
