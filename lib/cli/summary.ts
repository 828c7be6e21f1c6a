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
  verifyStorageSummary,
  type MediaUsageSummaryInstallResult,
  type MediaUsageSummaryReport,
  type MediaUsageTotals,
  type StorageSummaryReport,
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
      const result = await installMediaUsageSummary(db);
      const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
      write(describeInstall(result, target.display, took));
      return 0;
    }
    case "verify": {
      const report = await verifyMediaUsageSummary(db);
      if (!report.installed)
        throw new CliError(`no per-user media summary is installed on ${target.display}`);
      const storage = await verifyStorageSummary(db);
      write(describeReport(report) + describeStorageReport(storage));
      if (!report.triggersPresent)
        throw new CliError("the summary's triggers are missing: it is stale");
      if (report.driftedUsers > 0) {
        throw new CliError(
          `the summary differs from local_media_repository for ${report.driftedUsers} users`,
        );
      }
      if (storage.installed && storage.missing.length > 0) {
        throw new CliError("the summary's storage figures are missing parts: they are stale");
      }
      if (storage.driftedRows > 0) {
        throw new CliError(
          `the summary's storage figures differ from the media tables in ${storage.driftedRows} rows`,
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

/** What install did, for a person: each part of the summary created, upgraded or kept. */
function describeInstall(
  result: MediaUsageSummaryInstallResult,
  display: string,
  took: string,
): string {
  const { users, media, upgradedTriggers } = result;
  const lines: string[] = [];
  if (result.userSummary === "upgraded") {
    lines.push(
      `Upgraded the per-user media summary on ${display}: replaced ${upgradedTriggers.join(", ")}; ` +
        `kept its ${users} users, ${media} media (${took}).`,
    );
  } else if (result.userSummary === "installed") {
    lines.push(
      `Installed the per-user media summary on ${display}: ${users} users, ${media} media ` +
        `(${took}). Triggers keep it exact from now on.`,
    );
  } else {
    lines.push(
      `Added the storage figures (overview, remote origins) to the per-user media summary on ${display} (${took}). ` +
        "Triggers keep them exact from now on.",
    );
  }
  if (result.userSummary !== "kept") {
    lines.push(
      result.storageSummary === "installed"
        ? "It holds the storage endpoints' figures (overview, remote origins) too."
        : "It holds no storage figures: a media table they follow (thumbnails, remote media cache) is missing.",
    );
  }
  return `${lines.join("\n")}\n`;
}

const STORAGE_REBUILD = "Rebuild the summary with `summary uninstall`, then `summary install`.";

/** The storage part's verification, for a person: what is missing, and rows that drifted. */
function describeStorageReport(report: StorageSummaryReport): string {
  if (!report.available) return "";
  if (!report.installed) {
    return (
      "The summary holds no storage figures (an earlier version installed it): " +
      "run `summary install` to add them.\n"
    );
  }
  const lines: string[] = [];
  if (report.missing.length > 0) {
    lines.push(
      `Missing or disabled parts of the storage figures: ${report.missing.join(", ")}.`,
      "Without them the storage figures no longer follow the media tables, and the router will not use them.",
    );
  }
  if (report.driftedRows === 0) {
    lines.push("The storage figures match the media tables.");
  } else {
    lines.push(`The storage figures differ from the media tables in ${report.driftedRows} rows:`);
    for (const entry of report.drift) {
      const label = entry.side === "expected" ? "should be" : "is      ";
      lines.push(`  ${entry.table} ${label} ${JSON.stringify(entry.row)}`);
    }
    const unlisted = report.driftedRows - report.drift.length;
    if (unlisted > 0) lines.push(`  ... and ${unlisted} more`);
  }
  if (report.missing.length > 0 || report.driftedRows > 0) lines.push(STORAGE_REBUILD);
  return `${lines.join("\n")}\n`;
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
