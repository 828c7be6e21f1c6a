// What reaches the log of a caught error: its kind, code and message, never SQL or secrets.

import { consoleLogger, describeError } from "../../lib/logger";

describe("describeError", () => {
  test("keeps only what follows knex's query prefix", () => {
    const error = Object.assign(
      new Error(
        "select * from access_tokens where token = 'syt_secret' - relation \"users\" does not exist",
      ),
      { code: "42P01" },
    );
    expect(describeError(error)).toEqual({
      error: "Error",
      code: "42P01",
      message: 'relation "users" does not exist',
    });
  });

  test("blanks out secrets and drops everything after the first line", () => {
    const error = new TypeError("token abc123 rejected\n    at handler (/srv/app.js:1:1)");
    expect(describeError(error, ["abc123"])).toEqual({
      error: "TypeError",
      message: "token [redacted] rejected",
    });
  });

  test("a thrown non-error is described by its type only", () => {
    expect(describeError("syt_secret")).toEqual({ error: "string" });
  });
});

test("consoleLogger writes every level to stderr, as the README says, never to stdout", () => {
  const stdout = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
  const stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
  const viaConsole = {
    log: jest.spyOn(console, "log").mockImplementation(() => undefined),
    info: jest.spyOn(console, "info").mockImplementation(() => undefined),
    warn: jest.spyOn(console, "warn").mockImplementation(() => undefined),
    error: jest.spyOn(console, "error").mockImplementation(() => undefined),
  };
  try {
    consoleLogger.error({ a: 1 }, "e");
    consoleLogger.warn({}, "w");
    consoleLogger.info({}, "i");
    // console.warn and console.error write to stderr; console.info and console.log to stdout.
    expect(viaConsole.info).not.toHaveBeenCalled();
    expect(viaConsole.log).not.toHaveBeenCalled();
    expect(viaConsole.error.mock.calls.length + viaConsole.warn.mock.calls.length).toBe(3);
    expect(stdout).not.toHaveBeenCalled();
  } finally {
    for (const spy of [stdout, stderr, ...Object.values(viaConsole)]) spy.mockRestore();
  }
});
