// The documentation hangs together: every relative link of every page leads to a file and a
// heading that exist, and every export of the package and of its fixtures is documented.
// Pure: it reads files only, so it runs in the unit project.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import ts from "typescript";
import { anchorsOf, documentationPages, linksOf, ROOT, type Page } from "../helpers/docs";

const pages = documentationPages();
const pageAt = new Map(pages.map((page) => [page.path, page]));

interface ExportedName {
  name: string;
  /** Exported as a type only (`export type { ... }` or `type X` in a list). */
  typeOnly: boolean;
}

/** The names a module's `export { ... }` lists give, types included. */
function exportedNames(path: string): ExportedName[] {
  const source = ts.createSourceFile(
    path,
    readFileSync(join(ROOT, path), "utf8"),
    ts.ScriptTarget.ES2022,
  );
  return source.statements.flatMap((statement) =>
    ts.isExportDeclaration(statement) &&
    statement.exportClause &&
    ts.isNamedExports(statement.exportClause)
      ? statement.exportClause.elements.map((element) => ({
          name: element.name.text,
          typeOnly: statement.isTypeOnly || element.isTypeOnly,
        }))
      : [],
  );
}

const mentions = (text: string, name: string): boolean => text.includes(`\`${name}`);

test.each(pages.map((page) => [page.path, page] as const))(
  "every relative link of %s leads to an existing file and heading",
  (_path, page: Page) => {
    const broken: string[] = [];
    for (const link of linksOf(page)) {
      if (/^[a-z][a-z+.-]*:/i.test(link)) continue; // https:, mailto: ...
      const [file = "", anchor] = link.split("#");
      const target = file === "" ? page.path : normalize(join(dirname(page.path), file));
      if (!existsSync(join(ROOT, target))) {
        broken.push(`${link}: no file ${target}`);
        continue;
      }
      if (anchor === undefined) continue;
      const targetPage = pageAt.get(target.split("\\").join("/"));
      if (!targetPage) broken.push(`${link}: ${target} is not a documentation page`);
      else if (!anchorsOf(targetPage).has(anchor)) broken.push(`${link}: no heading #${anchor}`);
    }
    expect(broken).toEqual([]);
  },
);

test("every value the package exports is named in the README, every type in it or the API reference", () => {
  const readme = pageAt.get("README.md")?.text ?? "";
  const reference = pageAt.get("docs/api.md")?.text ?? "";
  const exported = exportedNames("lib/index.ts");
  expect(exported.filter((name) => !name.typeOnly).length).toBeGreaterThan(10);
  expect(exported.filter((name) => name.typeOnly).length).toBeGreaterThan(10);
  const undocumented = exported.filter(
    ({ name, typeOnly }) => !mentions(readme, name) && (!typeOnly || !mentions(reference, name)),
  );
  expect(undocumented.map(({ name }) => name)).toEqual([]);
});

test("every export of synapse-admin-statistics/fixtures is documented in docs/fixtures.md", () => {
  const fixturesPage = pageAt.get("docs/fixtures.md")?.text ?? "";
  const names = exportedNames("fixtures/index.ts").map(({ name }) => name);
  expect(names.length).toBeGreaterThan(30);
  expect(names.filter((name) => !mentions(fixturesPage, name))).toEqual([]);
});

test("a heading's anchor is GitHub's", () => {
  const page: Page = {
    path: "x.md",
    text: "# Mount it\n## `GET /_synapse/admin/v1/statistics/users/media`\n## Mount it\n```sh\n# not a heading\n```\n",
  };
  expect([...anchorsOf(page)]).toEqual([
    "mount-it",
    "get-_synapseadminv1statisticsusersmedia",
    "mount-it-1",
  ]);
});

test("the README stays under 250 lines: the depth lives in docs/", () => {
  const readme = pageAt.get("README.md")?.text ?? "";
  expect(readme.trimEnd().split("\n").length).toBeLessThan(250);
});
