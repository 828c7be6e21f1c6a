// The documentation as the doc specs read it: every Markdown page (README.md, CONTRIBUTING.md,
// CHANGELOG.md and docs/*.md, whoever wrote them), their TypeScript examples, headings and links.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(__dirname, "../..");

export interface Page {
  /** Relative to the repository, with `/`: `README.md`, `docs/operations.md`. */
  path: string;
  text: string;
}

export function documentationPages(): Page[] {
  const top = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"].filter((path) =>
    existsSync(join(ROOT, path)),
  );
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return [...top, ...docs].map((path) => ({
    path,
    text: readFileSync(join(ROOT, path), "utf8"),
  }));
}

export interface Example {
  page: string;
  /** The position of the block among the page's TypeScript blocks. */
  index: number;
  code: string;
  /** From a `<!-- readme-example: NAME -->` line just before the block: the example runs. */
  name?: string;
}

// A fenced ts/typescript block, indented or not (inside a list item), with the marker comment
// that may precede it; the closing fence has the opening's indentation.
const TYPESCRIPT_BLOCK =
  /(?:^<!-- readme-example: ([\w-]+) -->\n+)?^( *)```(?:ts|typescript)\n([\s\S]*?)^\2```$/gm;

export function typeScriptExamples(page: Page): Example[] {
  return [...page.text.matchAll(TYPESCRIPT_BLOCK)].map((match, index) => {
    const indent = match[2] ?? "";
    const code = (match[3] ?? "")
      .split("\n")
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join("\n");
    return { page: page.path, index, code, ...(match[1] ? { name: match[1] } : {}) };
  });
}

export const exampleMarkers = (page: Page): string[] =>
  [...page.text.matchAll(/^<!-- readme-example: ([\w-]+) -->$/gm)].map((match) => match[1] ?? "");

/** The page's text outside fenced code blocks, where headings and links live. */
function prose(page: Page): string {
  return page.text.replace(/^( *)(```|~~~)[\s\S]*?^\1\2$/gm, "");
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces made hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .trim()
    .replace(/\s/g, "-");
}

/** The anchors a page's headings give, with GitHub's -1, -2 ... for repeated ones. */
export function anchorsOf(page: Page): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of prose(page).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = headingAnchor(match[1] ?? "");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The targets of the page's Markdown links, outside code. */
export function linksOf(page: Page): string[] {
  const text = prose(page).replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? "");
}
