// What a whole test run leaves for the log audit (spec/audit): every log line the tests'
// loggers and the CLI printed, the secrets the tests used, and which test files have finished.

import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { STANDARD_TOKENS } from "../../fixtures";

export const RUN_DIR = resolve(__dirname, "../.tmp/run");
export const LOGS_DIR = join(RUN_DIR, "logs");
export const DONE_DIR = join(RUN_DIR, "done");
export const SECRETS_DIR = join(RUN_DIR, "secrets");
export const EXPECTED_FILE = join(RUN_DIR, "expected.json");

/** Every secret a test sends, by name, so that the audit knows what must never be logged. */
export const TEST_SECRETS = {
  ...STANDARD_TOKENS,
  thrownToken: "tok-secret-7f3a",
  databaseFailureToken: "tok-db-fail",
  tokenPassedToAuthCheck: "tok-123",
  unknownQueryToken: "syt_not_a_real_one_42",
  urlPassword: "hunter2",
  wrongPassword: "wrong-password",
  readerPassword: "reader-password",
  // Issue 11: tokens under parameters not spelled exactly access_token, and token-shaped values.
  upperCaseQueryToken: "syt_VVBQRVI_upperCaseQueryToken_1101",
  mixedCaseQueryToken: "syt_TWl4ZWQ_mixedCaseQueryToken_1102",
  bracketQueryToken: "syt_QnJhY2tldA_bracketQueryToken_1103",
  semicolonQueryToken: "syt_U2VtaQ_semicolonQueryToken_1104",
  encodedEqualsQueryToken: "syt_RW5jb2RlZA_encodedEqualsToken_1105",
  unknownParameterToken: "syt_VW5rbm93bg_unknownParameterToken_1106",
  masCompatibilityToken: "mct_4yQ7pLx2Rk9VbN3cWz8HtM6sJd1FgA",
  highEntropyValue: "Q7x9Lm2Pz8Rt4Vw6Yb1Nc3Kd5Hf0Js",
  clientSecret: "client-secret-words-only",
  tokenInPath: "syt_UGF0aA_tokenInPathSegment_1107",
} as const;

const ensure = (dir: string): void => {
  mkdirSync(dir, { recursive: true });
};

/** Appends lines to this process's log capture. */
export function captureLog(kind: string, text: string): void {
  ensure(LOGS_DIR);
  appendFileSync(
    join(LOGS_DIR, `${kind}-${process.pid}.log`),
    text.endsWith("\n") ? text : `${text}\n`,
  );
}

/** A secret made at run time (such as the demo's token) that log lines must not hold either. */
export function captureSecret(secret: string): void {
  ensure(SECRETS_DIR);
  appendFileSync(join(SECRETS_DIR, `${process.pid}.txt`), `${secret}\n`);
}

export function markFileDone(testPath: string): void {
  ensure(DONE_DIR);
  writeFileSync(join(DONE_DIR, doneName(testPath)), testPath);
}

export const doneName = (testPath: string): string =>
  createHash("sha1").update(testPath).digest("hex");
