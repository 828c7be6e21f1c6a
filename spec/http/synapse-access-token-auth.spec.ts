// synapseAccessTokenAuth's own rules. It learns once per database whether users.locked
// exists: the answer was kept as a knex builder, which runs its query again on every await, so
// each token lookup asked information_schema anew (and, on a hot standby, waited on locks
// replayed on `users`). And its options are checked when it is made.

import { openSqlite, STANDARD_TOKENS } from "../../fixtures";
import { silentLogger, synapseAccessTokenAuth, type Logger } from "../../lib";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/databases";

describe.each(DATABASE_KINDS)("token lookups on %s", (kind) => {
  const db = useTestDatabase(kind);

  test("after the first lookup, each one is a single statement", async () => {
    const authCheck = synapseAccessTokenAuth(db.current.knex);
    const statements: string[] = [];
    const listener = (query: { sql: string }) => statements.push(query.sql);
    db.current.knex.on("query", listener);
    try {
      const request = {} as Parameters<typeof authCheck>[1];
      expect(await authCheck(STANDARD_TOKENS.admin, request)).toEqual({
        userId: "@admin:test",
        admin: true,
        guest: false,
      });
      const first = statements.length;
      for (let lookup = 0; lookup < 3; lookup++) await authCheck(STANDARD_TOKENS.user, request);
      expect(statements.length - first).toBe(3);
      expect(statements.slice(first).join("\n")).not.toMatch(/information_schema|pragma/i);
    } finally {
      db.current.knex.off("query", listener);
    }
  });
});

test("synapseAccessTokenAuth refuses a logger that lacks error, warn or info, with a TypeError naming the option", () => {
  const knex = openSqlite();
  try {
    const halfLogger = { warn: () => undefined } as unknown as Logger;
    expect(() => synapseAccessTokenAuth(knex, { logger: halfLogger })).toThrow(
      new TypeError(
        'synapseAccessTokenAuth: option "logger" must have error, warn and info methods',
      ),
    );
    expect(() => synapseAccessTokenAuth(knex, { logger: silentLogger })).not.toThrow();
  } finally {
    void knex.destroy();
  }
});
