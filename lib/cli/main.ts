#!/usr/bin/env node
// The `synapse-admin-statistics` command: `serve` beside a real Synapse, `demo` on a generated
// database, `report` to print where the disk goes, `summary` to manage the opt-in per-user
// media summary. Every exit goes through
// `finish`, so failures are one line and a non-zero code.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { describeError } from "../logger";
import { MAX_STATEMENT_TIMEOUT_MS } from "../options";
import { maskCredentials } from "../redact";
import { parseDatabaseTarget } from "./database";
import { runDemo } from "./demo";
import { CliError, usageError } from "./errors";
import { parseDuration } from "./duration";
import { parseListen } from "./listen";
import { runReport } from "./report";
import { serve, type ServeOptions } from "./serve";
import { runSummaryCommand } from "./summary";
import { parseSynapseUrl } from "./synapse-url";

const VERSION = (
  JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "package.json"), "utf8")) as {
    version: string;
  }
).version;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const HEADER = `synapse-admin-statistics ${VERSION}
Synapse's admin API statistics endpoints (users' media usage, largest rooms) as a service.
`;

const USAGE = `Usage:
  synapse-admin-statistics serve [options]   serve them over a Synapse database
  synapse-admin-statistics demo [options]    serve them over a generated demo database
  synapse-admin-statistics report [options]  print where the disk goes (or --json)
  synapse-admin-statistics summary install|verify|uninstall --database <url|path>
                                             manage the opt-in per-user media summary
  synapse-admin-statistics <command> --help  the options of one command
  synapse-admin-statistics --help | --version
`;

const SERVE_OPTIONS = `serve options:
  --database <url|path>     Synapse's main database: a postgres:// or postgresql:// URL,
                            or a SQLite file (default: $DATABASE_URL)
  --state-database <url>    Synapse's state database, when it is split off
  --listen <host:port>      where to listen (default 127.0.0.1:8008; $PORT sets the port);
                            :port alone binds 127.0.0.1 only: give 0.0.0.0:port
                            (or [::]:port) to listen on every interface
  --statement-timeout <ms>  cancel a query running longer than this, answering 500
                            (PostgreSQL; default 30000, at most 2147483647; 0 turns it off)
  --log-level <level>       ${LOG_LEVELS.join(", ").replace("info", "info (default)")}
  --no-cors                 send no CORS headers (when a reverse proxy adds them)
  --pool-size <n>           connections of the statistics pool (PostgreSQL; default 10;
                            token lookups have 2 of their own)
  --max-concurrent-queries <n>
                            requests reading the database at once (default: the pool
                            size minus 2, at least 1)
  --max-queued-queries <n>  requests waiting for their turn; beyond them a request is
                            answered 503 with Retry-After (default: twice the above,
                            at least 4; 0: no queue)
  --queue-timeout <ms>      how long a request may wait in that queue (default 10000)
  --metrics-listen <host:port>
                            serve Prometheus metrics at /metrics on a listener of
                            their own (default: no metrics)
  --metrics-interval <time> how often the storage gauges read the database
                            (default 5m; e.g. 30s, 1h)
  --synapse-url <url>       check tokens by asking Synapse (whoami, then its admin
                            API) instead of reading access_tokens: for the Matrix
                            Authentication Service, e.g. http://localhost:8008
  --synapse-cache-ttl <time>
                            how long a token Synapse admitted is trusted without
                            asking again: the revocation delay (default 60s; 0: ask
                            every time)
`;

const DEMO_OPTIONS = `demo options:
  --embedded-postgres       run the demo on an embedded PostgreSQL (rooms endpoint too)
                            instead of SQLite
  --data-dir <path>         where the demo keeps its database (default ./.demo)
  --listen, --log-level     as for serve
`;

const REPORT_OPTIONS = `report options:
  --database <url|path>     as for serve (default: $DATABASE_URL)
  --state-database <url>    Synapse's state database, when it is split off (PostgreSQL)
  --json                    print the figures as one JSON document, for scripts
`;

const ABOUT_REPORT = `The report reads what the storage overview answers (the database and its largest
tables, local and remote media, thumbnails, content types, uploads per month),
the largest rooms (PostgreSQL only), the top uploaders and the top origins, and
prints them as tables with bars. Sizes are in binary units (1 KiB = 1,024 bytes).
It only reads, as serve does: a role with SELECT on Synapse's tables is enough.

While it reads, it says what on stderr when stderr is a terminal. Colour only on a
terminal: NO_COLOR turns it off, FORCE_COLOR (but not 0) forces it.
--json prints one document, the same shape every time (its fields are documented
in docs/report.md); it exits 0 once the report is printed, 1 when it cannot read
the database, 2 for wrong arguments.
`;

const SUMMARY_COMMANDS = `summary commands (the only ones that write to the database):
  install                   create the summary table and its triggers on
                            local_media_repository, and fill it, in one transaction
                            (uploads wait while it runs; reads go on)
  verify                    compare it with local_media_repository; lists the users
                            that differ and exits 1 if any do, or if it is stale
  uninstall                 remove every object install created
  --database <url|path>     as for serve (default: $DATABASE_URL)
`;

const ABOUT_SERVE = `The service reads the database only: PostgreSQL sessions are read-only
(default_transaction_read_only) and SQLite connections query_only, so a role with
nothing but SELECT on Synapse's tables is enough. Authentication uses Synapse's own
access_tokens and users tables (or Synapse itself, with --synapse-url): call it with
the admin tokens you already have.

GET /health answers OK while the service runs; GET /health/ready answers OK only
while the database answers (503 otherwise). Neither needs a token.

Logs are JSON lines on stdout (pino), one per request, never with an access token.
`;

const EXAMPLES = `Examples:
  synapse-admin-statistics serve --database postgres://stats:secret@db/synapse
  DATABASE_URL=/var/lib/synapse/homeserver.db synapse-admin-statistics serve --listen :8090
  curl -H "Authorization: Bearer $ADMIN_TOKEN" \\
    'http://127.0.0.1:8008/_synapse/admin/v1/statistics/users/media?order_by=media_length&dir=b'
`;

const REPORT_EXAMPLES = `Examples:
  synapse-admin-statistics report --database postgres://stats:secret@db/synapse
  FORCE_COLOR=1 synapse-admin-statistics report --database /var/lib/synapse/homeserver.db | less -R
  synapse-admin-statistics report --database "$DATABASE_URL" --json > storage.json
`;

const HELP = [
  HEADER,
  USAGE,
  SERVE_OPTIONS,
  DEMO_OPTIONS,
  REPORT_OPTIONS,
  SUMMARY_COMMANDS,
  ABOUT_SERVE,
  EXAMPLES,
].join("\n");

/** Each command's own help: its usage line and its options, not the others'. */
const COMMAND_HELP = {
  serve: [
    `${HEADER}\nUsage: synapse-admin-statistics serve [options]\n`,
    SERVE_OPTIONS,
    ABOUT_SERVE,
    EXAMPLES,
  ].join("\n"),
  demo: [`${HEADER}\nUsage: synapse-admin-statistics demo [options]\n`, DEMO_OPTIONS].join("\n"),
  report: [
    `${HEADER}\nUsage: synapse-admin-statistics report --database <url|path> [--state-database <url>] [--json]\n`,
    REPORT_OPTIONS,
    ABOUT_REPORT,
    REPORT_EXAMPLES,
  ].join("\n"),
  summary: [
    `${HEADER}\nUsage: synapse-admin-statistics summary install|verify|uninstall --database <url|path>\n`,
    SUMMARY_COMMANDS,
  ].join("\n"),
};

export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    // Called without a command: a usage error, so the help goes where errors go.
    process.stderr.write(HELP);
    return 2;
  }
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === "--version" || command === "-v") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === "serve") return runServe(rest);
  if (command === "demo") return runDemoCommand(rest);
  if (command === "report") return runReportCommand(rest);
  if (command === "summary") return runSummaryCommand(rest, COMMAND_HELP.summary);
  throw usageError(`unknown command "${command}"`);
}

function parse<T extends Record<string, { type: "string" | "boolean" }>>(
  argv: string[],
  options: T,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
}

function makeLogger(level: string | undefined) {
  const chosen = level ?? "info";
  if (!LOG_LEVELS.includes(chosen)) {
    throw usageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, not "${chosen}"`);
  }
  return pino({ level: chosen, base: { name: "synapse-admin-statistics" } });
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return 30_000;
  // Checked here, up front: PostgreSQL would refuse a larger one on every connection.
  if (!/^\d+$/.test(value) || Number(value) > MAX_STATEMENT_TIMEOUT_MS) {
    throw usageError(
      `--statement-timeout must be a whole number of milliseconds from 0 to ${MAX_STATEMENT_TIMEOUT_MS}, not "${value}"`,
    );
  }
  return Number(value);
}

async function runServe(argv: string[]): Promise<number> {
  const values = parse(argv, {
    database: { type: "string" },
    "state-database": { type: "string" },
    listen: { type: "string" },
    "statement-timeout": { type: "string" },
    "log-level": { type: "string" },
    "no-cors": { type: "boolean" },
    "metrics-listen": { type: "string" },
    "metrics-interval": { type: "string" },
    "synapse-url": { type: "string" },
    "synapse-cache-ttl": { type: "string" },
    "pool-size": { type: "string" },
    "max-concurrent-queries": { type: "string" },
    "max-queued-queries": { type: "string" },
    "queue-timeout": { type: "string" },
  });
  if (values.help) {
    process.stdout.write(COMMAND_HELP.serve);
    return 0;
  }
  const databaseValue = values.database ?? process.env.DATABASE_URL;
  if (!databaseValue) throw usageError("no database: give --database or set DATABASE_URL");
  const database = parseDatabaseTarget(databaseValue);
  const stateDatabase = values["state-database"]
    ? parseDatabaseTarget(values["state-database"])
    : undefined;
  await serve({
    database,
    ...(stateDatabase ? { stateDatabase } : {}),
    listen: parseListen(values.listen, process.env.PORT),
    statementTimeoutMs: parseTimeout(values["statement-timeout"]),
    cors: !values["no-cors"],
    logger: makeLogger(values["log-level"]),
    version: VERSION,
    ...sidecarOptions(values),
    ...limitOptions(values),
  });
  return 0;
}

/** The pool and admission options of `serve`, each only when given. */
function limitOptions(values: {
  "pool-size"?: string | undefined;
  "max-concurrent-queries"?: string | undefined;
  "max-queued-queries"?: string | undefined;
  "queue-timeout"?: string | undefined;
}) {
  const given = (flag: keyof typeof values, min: number, name: string) => {
    const value = values[flag];
    return value === undefined ? {} : { [name]: parseCount(`--${flag}`, value, min) };
  };
  return {
    ...given("pool-size", 1, "poolSize"),
    ...given("max-concurrent-queries", 1, "maxConcurrentQueries"),
    ...given("max-queued-queries", 0, "maxQueuedQueries"),
    ...given("queue-timeout", 1, "queueTimeoutMs"),
  } as Pick<
    ServeOptions,
    "poolSize" | "maxConcurrentQueries" | "maxQueuedQueries" | "queueTimeoutMs"
  >;
}

/** Node's timers and PostgreSQL's settings stop at a signed 32-bit integer. */
const LARGEST_SETTING = 2_147_483_647;

/** A whole number from `min` to LARGEST_SETTING, or a usage error naming the flag. */
function parseCount(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > LARGEST_SETTING) {
    throw usageError(
      `${flag} must be a whole number from ${min} to ${LARGEST_SETTING}, not "${value}"`,
    );
  }
  return Number(value);
}

/** The metrics and delegated-auth options of `serve`, each only when given. */
function sidecarOptions(values: {
  "metrics-listen"?: string | undefined;
  "metrics-interval"?: string | undefined;
  "synapse-url"?: string | undefined;
  "synapse-cache-ttl"?: string | undefined;
}) {
  const metricsListen = values["metrics-listen"];
  const metricsInterval = values["metrics-interval"];
  const synapseUrl = values["synapse-url"];
  const cacheTtl = values["synapse-cache-ttl"];
  if (metricsInterval !== undefined && metricsListen === undefined) {
    throw usageError("--metrics-interval needs --metrics-listen");
  }
  // Without a port, the metrics would take the service's own default port.
  if (metricsListen !== undefined && !/(^|:)\d+$/.test(metricsListen)) {
    throw usageError(`--metrics-listen needs a port, as in 127.0.0.1:9000, not "${metricsListen}"`);
  }
  if (cacheTtl !== undefined && synapseUrl === undefined) {
    throw usageError("--synapse-cache-ttl needs --synapse-url");
  }
  return {
    ...(metricsListen === undefined
      ? {}
      : { metricsListen: parseListen(metricsListen, undefined, "--metrics-listen") }),
    ...(metricsInterval === undefined
      ? {}
      : { metricsIntervalMs: parseDuration("--metrics-interval", metricsInterval) }),
    ...(synapseUrl === undefined ? {} : { synapseUrl: parseSynapseUrl(synapseUrl) }),
    ...(cacheTtl === undefined
      ? {}
      : { synapseCacheTtlMs: parseDuration("--synapse-cache-ttl", cacheTtl, true) }),
  };
}

async function runDemoCommand(argv: string[]): Promise<number> {
  const values = parse(argv, {
    "embedded-postgres": { type: "boolean" },
    "data-dir": { type: "string" },
    listen: { type: "string" },
    "log-level": { type: "string" },
  });
  if (values.help) {
    process.stdout.write(COMMAND_HELP.demo);
    return 0;
  }
  await runDemo({
    embeddedPostgres: values["embedded-postgres"] ?? false,
    dataDir: values["data-dir"] ?? join(process.cwd(), ".demo"),
    listen: parseListen(values.listen, process.env.PORT),
    logger: makeLogger(values["log-level"]),
    version: VERSION,
  });
  return 0;
}

async function runReportCommand(argv: string[]): Promise<number> {
  const values = parse(argv, {
    database: { type: "string" },
    "state-database": { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) {
    process.stdout.write(COMMAND_HELP.report);
    return 0;
  }
  const databaseValue = values.database ?? process.env.DATABASE_URL;
  if (!databaseValue) throw usageError("no database: give --database or set DATABASE_URL");
  const stateDatabase = values["state-database"];
  await runReport({
    database: parseDatabaseTarget(databaseValue),
    ...(stateDatabase === undefined ? {} : { stateDatabase: parseDatabaseTarget(stateDatabase) }),
    json: values.json ?? false,
  });
  return 0;
}

/**
 * The one way out: a code, and for a failure one line on stderr, with any password masked.
 * A failure exits at once: the pools are closed by then, and whatever a driver left open (a
 * socket waiting for the server's authentication timeout) or a signal handler must not keep
 * the process alive.
 */
function finish(code: number, error?: unknown): void {
  if (error !== undefined) {
    const message =
      error instanceof CliError
        ? error.message
        : `unexpected failure: ${String(describeError(error).message ?? "unknown error")}`;
    // stderr is synchronous for files and pipes: the line is out before the exit.
    process.stderr.write(`synapse-admin-statistics: ${maskCredentials(message)}\n`);
    process.exit(code);
  }
  process.exitCode = code;
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => finish(code),
    (error: unknown) => finish(error instanceof CliError ? error.exitCode : 1, error),
  );
}
