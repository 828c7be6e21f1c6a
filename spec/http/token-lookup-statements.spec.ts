// synapseAccessTokenAuth learns once per database whether users.locked exists. The answer was
// kept as a knex builder, which runs its query again on every await: each token lookup asked
// information_schema anew (and, on a hot standby, waited on locks replayed on `users`).

import { synapseAccessTokenAuth } from "../../lib";
import { STANDARD_TOKENS } from "../../fixtures";
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
