// `summary install | verify | uninstall`: the opt-in per-user media summary, applied to a
// Synapse database by its operator. These three are the only commands that write to it.

import { access, constants } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Knex } from "knex";
import { silentLogger } from "../logger";
import { readRecoveryState } from "../storage/recovery";
import {
  installMediaUsageSummary,
  MediaUsageSummaryError,
  removeMediaUsageSummary,
  verifyMediaUsageSummary,
  type MediaUsageSummaryReport,
  type MediaUsageTotals,
} from "../summary/media-usage-summary";
import {
  explainConnectionError,
  openDatabase,
  parseDatabaseTarget,
  type DatabaseTarget,
} from "./database";
import { CliError, usageError } from "./errors";

const ACTIONS = ["install", "verify", "uninstall"] as const;
type Action = (typeof ACTIONS)[number];

const REBUILD = "Rebuild it with `summary uninstall`, then `summary install`.";

/** Runs `summary <action> --database <url|path>`; `help` is the CLI's help text. */
export async function runSummaryCommand(argv: string[], help: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { database: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
  if (parsed.values.help) {
    process.stdout.write(help);
    return 0;
  }
  const [action, ...extra] = parsed.positionals;
  if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
    throw usageError(
      `summary needs one of ${ACTIONS.join(", ")}${action === undefined ? "" : `, not "${action}"`}`,
    );
  }
  if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}"`);
  const databaseValue = parsed.values.database ?? process.env.DATABASE_URL;
  if (!databaseValue) throw usageError("no database: give --database or set DATABASE_URL");
  const target = parseDatabaseTarget(databaseValue);
  // verify only reads, so a monitoring role without write access may run it.
  const readOnly = action === "verify";
  if (target.kind === "sqlite" && !readOnly) {
    // Opened for writing, a missing file would be created empty: say so instead.
    try {
      await access(target.location, constants.R_OK | constants.W_OK);
    } catch {
      throw new CliError(`cannot open SQLite database ${target.display}: no such writable file`);
    }
  }
  // No statement timeout: the backfill of a large media table takes seconds. knex's own
  // warnings stay quiet: a failure is reported once, in one line, below.
  const db = await openDatabase(target, {
    readOnly,
    statementTimeoutMs: 0,
    logger: silentLogger,
    poolMax: 1,
  });
  try {
    if (!readOnly && (await readRecoveryState(db)).standby) {
      throw new CliError(
        `${target.display} is a hot standby (read-only replica): run \`summary ${action}\` on the primary; the standby follows it through replication`,
      );
    }
    return await perform(action as Action, db, target);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof MediaUsageSummaryError) throw new CliError(error.message);
    throw new CliError(explainConnectionError(error, target));
  } finally {
    await db.destroy();
  }
}

async function perform(action: Action, db: Knex, target: DatabaseTarget): Promise<number> {
  const write = (text: string) => process.stdout.write(text);
  switch (action) {
    case "install": {
      const started = Date.now();
      const { users, media, upgradedTriggers } = await installMediaUsageSummary(db);
      const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
      write(
        upgradedTriggers.length > 0
          ? `Upgraded the per-user media summary on ${target.display}: replaced ${upgradedTriggers.join(", ")}; ` +
              `kept its ${users} users, ${media} media (${took}).\n`
          : `Installed the per-user media summary on ${target.display}: ${users} users, ${media} media ` +
              `(${took}). Triggers keep it exact from now on.\n`,
      );
      return 0;
    }
    case "verify": {
      const report = await verifyMediaUsageSummary(db);
      if (!report.installed)
        throw new CliError(`no per-user media summary is installed on ${target.display}`);
      write(describeReport(report));
      if (!report.triggersPresent)
        throw new CliError("the summary's triggers are missing: it is stale");
      if (report.driftedUsers > 0) {
        throw new CliError(
          `the summary differs from local_media_repository for ${report.driftedUsers} users`,
        );
      }
      return 0;
    }
    case "uninstall": {
      const removed = await removeMediaUsageSummary(db);
      write(
        removed.length === 0
          ? `No per-user media summary is installed on ${target.display}: nothing to remove.\n`
          : `Removed the per-user media summary from ${target.display}: ${removed.join(", ")}.\n`,
      );
      return 0;
    }
  }
}

const totals = (value: MediaUsageTotals | null): string =>
  value === null ? "(no row)" : `${value.count} media, ${value.length} bytes`;

/** What verify found, for a person: the stale triggers, and the drifted users in a table. */
function describeReport(report: MediaUsageSummaryReport): string {
  const lines: string[] = [];
  if (!report.triggersPresent) {
    lines.push(
      `Missing or disabled triggers: ${report.missingTriggers.join(", ")}.`,
      "Without them the summary no longer follows local_media_repository, and the router will not use it.",
    );
  }
  if (report.triggersPresent && report.outdatedTriggers.length > 0) {
    lines.push(
      `Triggers of an earlier version: ${report.outdatedTriggers.join(", ")}.`,
      "They keep the summary exact, but a statement that changes many media of one user takes time quadratic in their number. " +
        "Run `summary install` to replace them in place.",
    );
  }
  if (report.driftedUsers === 0) {
    lines.push("The per-user media summary matches local_media_repository.");
  } else {
    lines.push(
      `The per-user media summary differs from local_media_repository for ${report.driftedUsers} users:`,
    );
    const width = Math.max(4, ...report.drift.map((entry) => entry.user_id.length));
    lines.push(
      `  ${"user".padEnd(width)}  ${"in local_media_repository".padEnd(30)}  in the summary`,
    );
    for (const entry of report.drift) {
      lines.push(
        `  ${entry.user_id.padEnd(width)}  ${totals(entry.expected).padEnd(30)}  ${totals(entry.actual)}`,
      );
    }
    const unlisted = report.driftedUsers - report.drift.length;
    if (unlisted > 0) lines.push(`  ... and ${unlisted} more`);
  }
  if (!report.triggersPresent || report.driftedUsers > 0) lines.push(REBUILD);
  return `${lines.join("\n")}\n`;
}
