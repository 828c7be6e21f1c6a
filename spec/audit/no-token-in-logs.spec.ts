// Runs last (see spec/helpers/sequencer.cjs): once every other test file has finished, reads
// all the log output of the run — the routers' loggers and the CLI's stdout and stderr — and
// looks for every secret the tests sent. None may be there.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DONE_DIR,
  doneName,
  EXPECTED_FILE,
  LOGS_DIR,
  SECRETS_DIR,
  TEST_SECRETS,
} from "../helpers/test-run";

const readAll = (dir: string): Array<{ file: string; text: string }> =>
  existsSync(dir)
    ? readdirSync(dir).map((file) => ({ file, text: readFileSync(join(dir, file), "utf8") }))
    : [];

async function waitForOtherFiles(): Promise<string[]> {
  const expected = existsSync(EXPECTED_FILE)
    ? (JSON.parse(readFileSync(EXPECTED_FILE, "utf8")) as string[])
    : [];
  for (;;) {
    const missing = expected.filter((path) => !existsSync(join(DONE_DIR, doneName(path))));
    if (missing.length === 0) return expected;
    await new Promise((done) => setTimeout(done, 250));
  }
}

test(
  "no access token or password used in the whole run reaches a log line",
  async () => {
    const files = await waitForOtherFiles();
    const logs = readAll(LOGS_DIR);
    if (files.length > 0) expect(logs.length).toBeGreaterThan(0);
    const runtimeSecrets = readAll(SECRETS_DIR)
      .flatMap(({ text }) => text.split("\n"))
      .filter((secret) => secret.length >= 8);
    const leaks: string[] = [];
    for (const { file, text } of logs) {
      for (const [name, secret] of Object.entries(TEST_SECRETS)) {
        if (text.includes(secret)) leaks.push(`${name} in ${file}`);
      }
      // Secrets made at run time (the demo's token) are printed for the operator once, on
      // purpose; only the JSON log lines must never hold them.
      const logLines = text.split("\n").filter((line) => line.startsWith("{"));
      for (const secret of runtimeSecrets) {
        if (logLines.some((line) => line.includes(secret)))
          leaks.push(`a run-time secret in ${file}`);
      }
    }
    expect(leaks).toEqual([]);
  },
  30 * 60_000,
);
