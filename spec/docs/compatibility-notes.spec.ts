// docs/compatibility-notes.md documents what issue 11 defined, and every test it cites exists.

import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../..");
const notes = readFileSync(join(root, "docs", "compatibility-notes.md"), "utf8");

test.each([
  ["limit=0 and its next_token", /`limit=0` answers `next_token: 0`/],
  ["guests", /M_GUEST_ACCESS_FORBIDDEN/],
  ["the host app's settings for exact paths", /app\.set\("case sensitive routing", true\)/],
  ["the redaction rules", /## What the logs never hold/],
  ["request ids", /`X-Request-ID`[\s\S]*`upstreamRequestId`/],
  ["--listen :port binding 127.0.0.1", /`--listen :port` binds 127\.0\.0\.1 only/],
])("the notes document %s", (_topic, pattern) => {
  expect(notes).toMatch(pattern);
});

test("every spec file the notes cite exists", () => {
  const cited = [...notes.matchAll(/`(spec\/[\w./-]+\.spec\.ts)`/g)].map((match) => match[1] ?? "");
  expect(cited.length).toBeGreaterThan(5);
  expect(cited.filter((path) => !existsSync(join(root, path)))).toEqual([]);
});
