// What reaches the log of a caught error: its kind, code and message, never SQL or secrets.

import { describeError } from "../../lib/logger";

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
