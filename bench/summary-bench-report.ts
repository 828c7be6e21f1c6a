// The summary benchmark's report: the figures as Markdown tables, and the shape of its JSON.

import type { ArmResult, Kind } from "./summary-bench-arms";
import type { BulkResult } from "./summary-bench-bulk";

export interface SizeResult {
  settings: string;
  bytesBefore: number;
  bytesAfter: number;
  autovacuumRuns: number;
  deadRows: number;
}

export interface InsertSection {
  inserts: ArmResult[];
  durable: ArmResult[];
  sizes: SizeResult[];
}

export interface FormsSection {
  inserts: ArmResult[];
  accessUpdates: ArmResult[];
  purge: Array<{ arm: string; rows: number; ms: number }>;
}

export interface BackfillResult {
  database: Kind;
  mediaRows: number;
  users: number;
  generateS: number;
  installS: number;
  verifyS: number;
  summaryBytes: number | null;
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function table(headers: string[], body: Array<Array<string | number>>): string {
  const cells = [headers, ...body.map((row) => row.map(String))];
  const widths = headers.map((_, column) =>
    Math.max(...cells.map((row) => (row[column] ?? "").length)),
  );
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [
    line(headers),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...cells.slice(1).map(line),
  ].join("\n");
}

export interface Results {
  startedAt: string;
  environment: Record<string, string | number>;
  options: { block: number };
  inserts: Partial<Record<Kind, InsertSection>>;
  forms?: FormsSection;
  bulk: BulkResult[];
  backfill: BackfillResult[];
}

export function report(results: Results): string {
  const out: string[] = [];
  const insertRows: Array<Array<string | number>> = [];
  for (const kind of ["sqlite", "postgres"] as const) {
    const section = results.inserts[kind];
    if (!section) continue;
    for (const result of [...section.inserts, ...section.durable]) {
      insertRows.push([
        kind,
        result.arm,
        result.operations,
        result.microsPerOperation,
        result.ratio.toFixed(3),
      ]);
    }
  }
  if (insertRows.length > 0) {
    out.push(
      `Uploads: single-row INSERTs, one transaction each, in alternating blocks of ${results.options.block} (ratio: median over blocks, against "without summary")`,
      table(["database", "arm", "inserts", "µs/insert", "ratio"], insertRows),
      "",
    );
  }
  const sizes = results.inserts.postgres?.sizes ?? [];
  if (sizes.length > 0) {
    out.push(
      `Summary table size (pg_total_relation_size) before and after the PostgreSQL insert run (autovacuum_naptime ${results.environment.postgresNaptime})`,
      table(
        ["autovacuum settings", "before", "after", "growth", "autovacuum runs", "dead rows at end"],
        sizes.map((size) => [
          size.settings,
          megabytes(size.bytesBefore),
          megabytes(size.bytesAfter),
          `${(size.bytesAfter / size.bytesBefore).toFixed(1)}x`,
          size.autovacuumRuns,
          size.deadRows,
        ]),
      ),
      "",
    );
  }
  if (results.forms) {
    const forms = results.forms;
    out.push(
      "Trigger forms on PostgreSQL (µs per operation; ratio against no triggers)",
      table(
        ["operation", ...forms.inserts.map((result) => result.arm)],
        [
          [
            "single-row INSERT",
            ...forms.inserts.map(
              (result) => `${result.microsPerOperation} (${result.ratio.toFixed(2)})`,
            ),
          ],
          [
            "single-row UPDATE of last_access_ts",
            ...forms.accessUpdates.map(
              (result) => `${result.microsPerOperation} (${result.ratio.toFixed(2)})`,
            ),
          ],
          [
            `one DELETE of ${forms.purge[0]?.rows ?? 0} rows (ms)`,
            ...forms.purge.map((result) => result.ms),
          ],
        ],
      ),
      "",
    );
  }
  for (const kind of ["sqlite", "postgres"] as const) {
    const bulk = results.bulk.filter((result) => result.database === kind);
    if (bulk.length === 0) continue;
    // The arms of the first size, which has them all; a larger size may leave one out.
    const arms = (bulk[0]?.arms ?? []).map((arm) => arm.arm);
    out.push(
      `One statement of many media of one user on ${kind === "sqlite" ? "SQLite" : "PostgreSQL"} (ms, median over rounds; ratio against "${arms[0] ?? ""}")`,
      table(
        ["media", "statement", ...arms],
        bulk.map((result) => [
          result.rows,
          result.statement,
          ...arms.map((name) => {
            const arm = result.arms.find((candidate) => candidate.arm === name);
            return arm === undefined ? "not run" : `${arm.ms} (${arm.ratio.toFixed(2)})`;
          }),
        ]),
      ),
      "",
    );
  }
  if (results.backfill.length > 0) {
    out.push(
      "install: backfill, indexes and triggers in one transaction (verify: a fresh aggregate compared with the summary)",
      table(
        ["database", "media rows", "users", "install", "verify", "summary size"],
        results.backfill.map((result) => [
          result.database,
          result.mediaRows,
          result.users,
          `${result.installS} s`,
          `${result.verifyS} s`,
          result.summaryBytes === null ? "" : megabytes(result.summaryBytes),
        ]),
      ),
      "",
    );
  }
  return out.join("\n");
}
