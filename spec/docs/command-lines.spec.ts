// Every command line the documentation shows uses only options its command's `--help` lists:
// an option renamed in the code cannot stay behind in a page an operator copies from.

import { spawnSync } from "node:child_process";
import { CLI } from "../helpers/cli";
import { documentationPages, type Page } from "../helpers/docs";

const COMMAND = "synapse-admin-statistics";

interface CommandLine {
  page: string;
  subcommand: string;
  options: string[];
}

/** The shell blocks' command lines (continued lines joined), with their `--options`. */
function commandLines(page: Page): CommandLine[] {
  const blocks = [...page.text.matchAll(/```(?:sh|bash|console)\n([\s\S]*?)```/g)].map(
    (match) => match[1] ?? "",
  );
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, " ")
      .split("\n")
      .map((line) => line.replace(/^\$\s*/, "").replace(/\s+#.*$/, ""))
      // The command run: at the start of a line, after environment assignments or `npx`.
      .map((line) =>
        line.match(new RegExp(`^(?:\\w+=\\S*\\s+)*(?:npx\\s+)?${COMMAND}\\s+(\\S+)(.*)$`)),
      )
      .filter((match): match is RegExpMatchArray => match !== null)
      .map((match) => ({
        page: page.path,
        subcommand: match[1] ?? "",
        options: [...(match[2] ?? "").matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map(
          (option) => option[1] ?? "",
        ),
      })),
  );
}

const lines = documentationPages().flatMap(commandLines);
const helpOf = new Map<string, string>();

function help(subcommand: string): string {
  let text = helpOf.get(subcommand);
  if (text === undefined) {
    const args = subcommand.startsWith("-") ? ["--help"] : [subcommand, "--help"];
    const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
    text = `${result.stdout}${result.stderr}`;
    helpOf.set(subcommand, text);
  }
  return text;
}

test("the pages show command lines of every command", () => {
  const shown = new Set(lines.map((line) => line.subcommand));
  for (const subcommand of ["serve", "report", "summary", "demo"]) {
    expect(shown).toContain(subcommand);
  }
});

test.each(
  lines.map((line) => [`${line.page}: ${line.subcommand} ${line.options.join(" ")}`, line]),
)("%s uses only options its --help lists", (_name, line: CommandLine) => {
  const text = help(line.subcommand);
  expect(text).toMatch(/Usage/);
  const unknown = line.options.filter(
    (option) => !new RegExp(`(^|\\s)${option}(\\s|=|$)`, "m").test(text),
  );
  expect(unknown).toEqual([]);
});
