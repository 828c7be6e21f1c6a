// The `report` runs the documentation shows (README.md, docs/report.md), and their shape: what
// must stay true of a sample when the numbers, names and dates of another run differ.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./docs";

/** The ```text block after `<!-- report-sample: ENGINE -->` in a documentation page. */
export function reportSample(page: string, engine: "sqlite" | "postgres"): string {
  const text = readFileSync(join(ROOT, page), "utf8");
  const match = new RegExp(
    `^<!-- report-sample: ${engine} -->\\n+\`\`\`text\\n([\\s\\S]*?)^\`\`\`$`,
    "m",
  ).exec(text);
  if (!match?.[1]) throw new Error(`${page} has no report sample for ${engine}`);
  return match[1];
}

/** What an abridged sample marks a left-out section or rows with. */
const ELLIPSIS = "…";

export interface SampleSection {
  /** The title line with every number as `#`, the database and the instant left out. */
  title: string;
  /** Every other line, numbers as `#`, bars dropped, names of ranked rows as `<name>`. */
  lines: string[];
}

/**
 * The sections of a report's text (paragraphs), each reduced to its shape. A row that ends in
 * a figure is a ranked row unless it is one of the fixed rows of "Where the disk goes": its
 * name (a table, a user, an origin, a month) differs from run to run.
 */
export function reportShape(text: string): SampleSection[] {
  return text
    .trimEnd()
    .split("\n\n")
    .filter((paragraph) => paragraph.trim() !== ELLIPSIS)
    .map((paragraph) => {
      const [title = "", ...rest] = paragraph.split("\n");
      const fixedRows = title.startsWith("Where the disk goes");
      const lines = rest
        .filter((line) => line.trim() !== ELLIPSIS)
        .map((line) => {
          const shape = line
            .replace(/[█▉▊▋▌▍▎▏]+$/u, "")
            .trimEnd()
            .replace(/\d[\d,.]*( [KMGTPE]?i?B)?/g, "#")
            .replace(/(?<=\S) {2,}/g, "  ")
            // A heading over a column without one starts as far in as that column is wide.
            .replace(/^ {5,}/, "  ");
          return !fixedRows && / {2}#$/.test(shape)
            ? shape.replace(/^ {2}\S.*? {2}(?=#)/, "  <name>  ")
            : shape;
        })
        .map((line) => line.replace(/^(Database|State database): .*/, "$1: <database>"));
      return {
        title: title.replace(/\d[\d,.:-]*/g, "#"),
        lines,
      };
    });
}

/**
 * Whether a sample (perhaps abridged) shows what a real run prints: its sections in the run's
 * order, each line one the run has, and every line of a shown section that is not a ranked row
 * (the headings, the fixed rows, the remarks) present. Answers what differs.
 */
export function sampleDifferences(sample: string, run: string): string[] {
  const shown = reportShape(sample);
  const real = reportShape(run);
  const differences: string[] = [];
  let from = 0;
  for (const section of shown) {
    const index = real.findIndex(
      (candidate, position) => position >= from && candidate.title === section.title,
    );
    const match = real[index];
    if (!match) {
      differences.push(`no section "${section.title}" (in this order) in a real run`);
      continue;
    }
    from = index + 1;
    for (const line of section.lines) {
      if (!match.lines.includes(line))
        differences.push(`${section.title}: "${line}" is not printed`);
    }
    for (const line of match.lines) {
      if (!line.startsWith("  <name>") && !section.lines.includes(line)) {
        differences.push(`${section.title}: "${line}" is missing`);
      }
    }
  }
  return differences;
}
