// The logging seam: pino-compatible `(details, message)` calls, and the one function that
// turns a caught error into fields that are safe to log.

/**
 * What the router logs through. pino, bunyan-style loggers and `console`-backed adapters fit:
 * each method takes structured details first and a message second.
 */
export interface Logger {
  error(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
}

/** The default: one line per event on stderr, prefixed with the package name. */
export const consoleLogger: Logger = {
  error: (details, message) => console.error(formatLine("error", details, message)),
  warn: (details, message) => console.warn(formatLine("warn", details, message)),
  // console.info would write to stdout, which a host may keep for its own output.
  info: (details, message) => console.error(formatLine("info", details, message)),
};

/** A logger that drops everything, for hosts that want silence. */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
};

function formatLine(level: string, details: Record<string, unknown>, message: string): string {
  const fields = Object.keys(details).length > 0 ? ` ${JSON.stringify(details)}` : "";
  return `synapse-admin-statistics ${level}: ${message}${fields}`;
}

/**
 * The fields of a caught error that may be logged: its class, its driver code (SQLSTATE,
 * SQLITE_*, ECONNREFUSED) and its message with any SQL cut off. knex prefixes a failed
 * query's message with the query text and its bound values (` - ` joins them), and a bound
 * value may be an access token, so only what follows the last ` - ` is kept. The stack is
 * never logged: it says nothing an operator can act on and can carry request data. `secrets`
 * (the request's access token) are blanked out of the message too: a host's `authCheck` may
 * well put the token it rejected into its error.
 */
export function describeError(
  error: unknown,
  secrets: readonly string[] = [],
): Record<string, unknown> {
  // Duck-typed: an error made in another realm (a native driver's, a vm context's) is no
  // `instanceof Error` here, and its message is still what the operator needs.
  if (!isErrorLike(error)) {
    return { error: typeof error };
  }
  const details: Record<string, unknown> = {
    error: typeof error.name === "string" ? error.name : "Error",
  };
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") {
    details.code = code;
  }
  const separator = error.message.lastIndexOf(" - ");
  const message = separator >= 0 ? error.message.slice(separator + 3) : error.message;
  let firstLine = message.split("\n", 1)[0]?.slice(0, 500) ?? "";
  for (const secret of secrets) {
    if (secret.length > 0) firstLine = firstLine.split(secret).join("[redacted]");
  }
  details.message = firstLine;
  return details;
}

function isErrorLike(value: unknown): value is Error {
  return (
    value instanceof Error ||
    (typeof value === "object" &&
      value !== null &&
      typeof (value as { message?: unknown }).message === "string")
  );
}
