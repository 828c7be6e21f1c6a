// The router notices the per-user summary by itself: on its first request, and again a minute
// later; and when the summary goes away between two checks, the media table answers.

import request from "supertest";
import { insertMediaDataset, randomMediaDataset, STANDARD_TOKENS } from "../../fixtures";
import {
  installMediaUsageSummary,
  uninstallMediaUsageSummary,
} from "../../lib/summary/media-usage-summary";
import { RECHECK_MS } from "../../lib/storage/summary-lookup";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/databases";
import { expectedUsersMedia } from "../helpers/oracle";

const DATASET = randomMediaDataset({ seed: 61, users: 30 });

describe.each(DATABASE_KINDS)("summary detection on %s", (kind) => {
  const db = useTestDatabase(kind, (knex) => insertMediaDataset(knex, DATASET));
  afterEach(() => jest.restoreAllMocks());

  /** Answers a request and says whether its statements read the summary table. */
  async function ask(
    app: ReturnType<typeof createTestApp>,
  ): Promise<{ body: unknown; fromSummary: boolean }> {
    const statements: string[] = [];
    const listener = (query: { sql: string }) => statements.push(query.sql);
    db.current.knex.on("query", listener);
    try {
      const res = await request(app)
        .get(USERS_MEDIA)
        .query({ order_by: "media_length", dir: "b" })
        .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
      expect(res.status).toBe(200);
      return {
        body: res.body,
        fromSummary: statements.some((sql) => /FROM sas_user_media_usage AS s/.test(sql)),
      };
    } finally {
      db.current.knex.off("query", listener);
    }
  }

  test("a summary installed after the router started is used after the next check, with the same answers", async () => {
    const expected = expectedUsersMedia(DATASET, { order_by: "media_length", dir: "b" });
    const app = createTestApp({ knex: db.current.knex });
    expect(await ask(app)).toEqual({ body: expected, fromSummary: false });
    await installMediaUsageSummary(db.current.admin);
    try {
      // Still within the minute: what the router learnt stands.
      expect(await ask(app)).toEqual({ body: expected, fromSummary: false });
      const now = Date.now();
      jest.spyOn(Date, "now").mockReturnValue(now + RECHECK_MS + 1);
      expect(await ask(app)).toEqual({ body: expected, fromSummary: true });
    } finally {
      await uninstallMediaUsageSummary(db.current.admin);
    }
  });

  test("a summary removed between two checks: the media table answers, not a 500", async () => {
    const expected = expectedUsersMedia(DATASET, { order_by: "media_length", dir: "b" });
    await installMediaUsageSummary(db.current.admin);
    const app = createTestApp({ knex: db.current.knex });
    expect(await ask(app)).toEqual({ body: expected, fromSummary: true });
    await uninstallMediaUsageSummary(db.current.admin);
    expect((await ask(app)).body).toEqual(expected);
    expect(await ask(app)).toEqual({ body: expected, fromSummary: false });
  });
});
