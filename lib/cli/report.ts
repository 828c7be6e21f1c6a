// `report`: the storage overview printed for a person (aligned tables, bars, a chart of the
// months) or, with --json, as one document for scripts. Opens the databases as `serve` does,
// read-only, and reads them once.

import type { Knex } from "knex";
import { silentLogger } from "../logger";
import {
  checkSynapseDatabase,
  explainConnectionError,
  openDatabase,
  type DatabaseTarget,
} from "./database";
import { CliError, usageError } from "./errors";
import { readStorageReport, REPORT_STEPS, type ReportStep } from "./report-data";
import { terminalStyle, wantsColour } from "./report-layout";
import { renderReport } from "./report-text";

export interface ReportOptions {
  database: DatabaseTarget;
  stateDatabase?: DatabaseTarget;
  json: boolean;
}

/** The tables the report reads: a database without one of them is not a Synapse database. */
export const REPORT_TABLES = [
  "local_media_repository",
  "local_media_repository_thumbnails",
  "remote_media_cache",
  "remote_media_cache_thumbnails",
  "profiles",
];

/** The width a report for a pipe or a file is laid out in. */
const DEFAULT_WIDTH = 80;
const MAX_WIDTH = 120;

/** Reads the databases and prints the report on stdout. */
export async function runReport(options: ReportOptions): Promise<void> {
  if (options.stateDatabase && options.stateDatabase.kind !== "postgres") {
    throw usageError("--state-database must be a PostgreSQL URL: only PostgreSQL splits it off");
  }
  if (options.stateDatabase && options.database.kind !== "postgres") {
    throw usageError("--state-database needs a PostgreSQL --database");
  }
  const progress = progressLine(process.stderr);
  const pools: Knex[] = [];
  try {
    const open = async (target: DatabaseTarget): Promise<Knex> => {
      // No statement timeout: a person waits for the figures (and may stop it); knex's own
      // warnings stay quiet, a failure is reported once, in one line.
      const db = await openDatabase(target, {
        readOnly: true,
        statementTimeoutMs: 0,
        logger: silentLogger,
        poolMax: 2,
      });
      pools.push(db);
      return db;
    };
    progress.show("connecting");
    const main = await open(options.database);
    await checkSynapseDatabase(main, options.database, REPORT_TABLES);
    let state: Knex | undefined;
    if (options.stateDatabase) {
      state = await open(options.stateDatabase);
      try {
        await state.raw("SELECT 1");
      } catch (error) {
        throw new CliError(explainConnectionError(error, options.stateDatabase));
      }
    }
    const report = await readStorageReport(
      {
        main: { db: main, dialect: options.database.kind },
        ...(state ? { state: { db: state, dialect: "postgres" as const } } : {}),
        source: {
          database: options.database.display,
          state_database: options.stateDatabase?.display ?? null,
        },
      },
      (step) => progress.show(step),
    ).catch((error: unknown) => {
      // A connection lost half-way, a role without SELECT on a table: one line, no SQL.
      if (error instanceof CliError) throw error;
      throw new CliError(explainConnectionError(error, options.database));
    });
    progress.clear();
    const stdout = process.stdout;
    stdout.write(
      options.json
        ? `${JSON.stringify(report, null, 2)}\n`
        : renderReport(report, {
            style: terminalStyle(wantsColour(process.env, stdout)),
            width: stdout.isTTY
              ? Math.min(stdout.columns || DEFAULT_WIDTH, MAX_WIDTH)
              : DEFAULT_WIDTH,
          }),
    );
  } finally {
    progress.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}

/**
 * What the report is reading, on one line of stderr rewritten in place: only when stderr is a
 * terminal, so that nothing but the report reaches a pipe, a file or a cron mail.
 */
function progressLine(stream: NodeJS.WriteStream): {
  show(step: ReportStep | "connecting"): void;
  clear(): void;
} {
  let shown = false;
  const clear = (): void => {
    if (shown) stream.write("\r\u001b[2K");
    shown = false;
  };
  if (stream.isTTY !== true) return { show: () => undefined, clear };
  return {
    show(step) {
      const position =
        step === "connecting" ? "" : ` (${REPORT_STEPS.indexOf(step) + 1}/${REPORT_STEPS.length})`;
      stream.write(
        `\r\u001b[2Kreport: reading ${step === "connecting" ? "the schema" : step}${position}…`,
      );
      shown = true;
    },
    clear,
  };
}
