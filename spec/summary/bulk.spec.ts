// Statements that change many media at once, as an import or an admin's purge makes them: the
// summary stays exact on both databases, and on PostgreSQL one statement rewrites each user's
// summary row once, however many of that user's media it changes (issue 11, item 8: one
// INSERT ... SELECT of 123k media for one user rewrote that user's row 123k times, each version
// left behind in the same transaction, and ran for more than ten minutes).

import type { Knex } from "knex";
import { DATABASE_KINDS } from "../helpers/databases";
import { summaryRowOf } from "../helpers/media-usage";
import { bulkInsert, summaryWritesOf, type Statement } from "./bulk-statements";
import { useExactSummary } from "./exact-summary";

const ROWS = 2_000;

describe.each(DATABASE_KINDS)("statements changing many media on %s", (kind) => {
  const database = useExactSummary(kind, [
    { media_id: "seed", user_id: "@seed:test", media_length: 1, created_ts: 1 },
  ]);
  let knex: Knex;
  beforeEach(() => {
    knex = database();
  });

  const user = (name: string) => `@${name}.${kind}:test`;
  const run = async ({ sql, bindings }: { sql: string; bindings: Array<string | number> }) => {
    await knex.raw(sql, bindings);
  };
  const lengthOf = (from: number, to: number) => {
    let total = 0;
    for (let i = from; i <= to; i++) if (i % 7 !== 0) total += i;
    return total;
  };

  test("one INSERT ... SELECT of many media for one user counts every one of them", async () => {
    await run(bulkInsert(kind, "one", ROWS, `'${user("importer")}'`));
    expect(await summaryRowOf(knex, user("importer"))).toEqual({
      user_id: user("importer"),
      media_count: ROWS,
      media_length: lengthOf(1, ROWS),
    });
    // A second import for the same user adds to the row the first one made.
    await run(bulkInsert(kind, "two", ROWS, `'${user("importer")}'`));
    expect(await summaryRowOf(knex, user("importer"))).toEqual({
      user_id: user("importer"),
      media_count: 2 * ROWS,
      media_length: 2 * lengthOf(1, ROWS),
    });
  });

  test("one INSERT ... SELECT spread over several users and no user counts each user's share", async () => {
    await run(
      bulkInsert(
        kind,
        "spread",
        ROWS,
        `CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN '${user("s1")}' ELSE '${user("s2")}' END`,
      ),
    );
    expect((await summaryRowOf(knex, user("s1")))?.media_count).toBe(ROWS / 4);
    expect((await summaryRowOf(knex, user("s2")))?.media_count).toBe(ROWS / 2);
  });

  test("one UPDATE moving many media between users, to no user and from no user, keeps every row right", async () => {
    await run(
      bulkInsert(
        kind,
        "move",
        ROWS,
        `CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN '${user("m1")}' ELSE '${user("m2")}' END`,
      ),
    );
    // m1 -> m2, m2 -> no user, no user -> m3, and every length changed, in one statement.
    await knex.raw(
      `UPDATE local_media_repository
          SET user_id = CASE WHEN user_id = ? THEN ? WHEN user_id = ? THEN NULL ELSE ? END,
              media_length = COALESCE(media_length, 0) + 1
        WHERE media_id LIKE 'move%'`,
      [user("m1"), user("m2"), user("m2"), user("m3")],
    );
    expect(await summaryRowOf(knex, user("m1"))).toBeUndefined();
    expect((await summaryRowOf(knex, user("m2")))?.media_count).toBe(Math.round(ROWS / 3));
    expect((await summaryRowOf(knex, user("m3")))?.media_count).toBe(Math.floor(ROWS / 3));
    // Lengths alone, of many media of one user.
    await knex.raw(
      "UPDATE local_media_repository SET media_length = NULL WHERE user_id = ? AND media_length > 100",
      [user("m3")],
    );
    expect((await summaryRowOf(knex, user("m3")))?.media_length).toBeLessThan(100 * 100);
  });

  test("one DELETE of many media subtracts them, and removes the users it emptied", async () => {
    await run(
      bulkInsert(
        kind,
        "purge",
        ROWS,
        `CASE i % 2 WHEN 0 THEN '${user("p1")}' ELSE '${user("p2")}' END`,
      ),
    );
    await knex.raw(
      "DELETE FROM local_media_repository WHERE media_id LIKE 'purge%' AND (user_id = ? OR media_length > 1000)",
      [user("p1")],
    );
    let left = 0;
    for (let i = 1; i <= ROWS; i += 2) if (i <= 1000 || i % 7 === 0) left += 1;
    expect(await summaryRowOf(knex, user("p1"))).toBeUndefined();
    expect((await summaryRowOf(knex, user("p2")))?.media_count).toBe(left);
  });
});

describe("statements changing many media on postgres: the summary rows they write and lock", () => {
  const database = useExactSummary(
    "postgres",
    ["a", "b", "c"].map((name) => ({
      media_id: `${name}0`,
      user_id: `@${name}:test`,
      media_length: 1,
      created_ts: 1,
    })),
  );
  const writesOf = (statement: Statement | string) => summaryWritesOf(database(), statement);

  test("one statement writes each user's summary row once, however many of their media it changes", async () => {
    const insert = bulkInsert("postgres", "x", ROWS, "CASE i % 2 WHEN 0 THEN '@a:test' END");
    expect(await writesOf(insert)).toEqual({
      inserted: 0,
      updated: 1,
      deleted: 0,
    });
    const newcomer = bulkInsert("postgres", "y", ROWS, "'@new:test'");
    expect(await writesOf(newcomer)).toEqual({
      inserted: 1,
      updated: 0,
      deleted: 0,
    });
    expect(
      await writesOf(
        "UPDATE local_media_repository SET user_id = '@b:test' WHERE user_id = '@new:test'",
      ),
    ).toEqual({ inserted: 0, updated: 2, deleted: 1 });
    expect(
      await writesOf(
        "UPDATE local_media_repository SET media_length = 5 WHERE user_id = '@a:test'",
      ),
    ).toEqual({ inserted: 0, updated: 1, deleted: 0 });
    expect(
      await writesOf(
        "DELETE FROM local_media_repository WHERE media_id LIKE 'y%' OR media_id = 'b0'",
      ),
    ).toEqual({ inserted: 0, updated: 1, deleted: 1 });
  });

  test("a statement that changes no user's count or bytes writes no summary row", async () => {
    expect(
      await writesOf(
        "UPDATE local_media_repository SET last_access_ts = 7 WHERE user_id = '@a:test'",
      ),
    ).toEqual({ inserted: 0, updated: 0, deleted: 0 });
  });

  test("two statements changing the same users' media in opposite orders do not deadlock", async () => {
    const knex = database();
    // One upload for @c holds its summary row until it commits; meanwhile one statement adds
    // media for @a, @c and @b in that order, another for @b, @c and @a. Taking the summary rows
    // in the order of the media rows, the first would hold @a and the second @b, each then
    // waiting for the other once @c is free: a deadlock, one of them rolled back.
    const holder = await knex.transaction();
    const writers: Array<Promise<unknown>> = [];
    const pids: number[] = [];
    try {
      await holder.raw(
        "INSERT INTO local_media_repository (media_id, user_id, media_length, created_ts) VALUES ('hold', '@c:test', 1, 1)",
      );
      for (const [name, order] of [
        ["first", ["@a:test", "@c:test", "@b:test"]],
        ["second", ["@b:test", "@c:test", "@a:test"]],
      ] as const) {
        writers.push(
          knex.transaction(async (trx) => {
            const { rows } = (await trx.raw("SELECT pg_backend_pid() AS pid")) as {
              rows: Array<{ pid: number }>;
            };
            pids.push(Number(rows[0]?.pid));
            await trx.raw(
              `INSERT INTO local_media_repository (media_id, user_id, media_length, created_ts)
               VALUES (?, ?, 1, 1), (?, ?, 1, 1), (?, ?, 1, 1)`,
              order.flatMap((owner, index) => [`${name}${index}`, owner]),
            );
          }),
        );
      }
      // Both statements are under way, and waiting for a lock, before @c's upload commits.
      for (let waited = 0; ; waited += 20) {
        const { rows } = (await knex.raw(
          "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE pid = ANY(?) AND wait_event_type = 'Lock'",
          [pids],
        )) as { rows: Array<{ waiting: number }> };
        if (pids.length === 2 && rows[0]?.waiting === 2) break;
        if (waited > 10_000) throw new Error("the two statements never both waited");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await holder.commit();
    } finally {
      if (!holder.isCompleted()) await holder.rollback();
    }
    const outcomes = await Promise.allSettled(writers);
    expect(
      outcomes.map((outcome) =>
        outcome.status === "fulfilled"
          ? "committed"
          : `failed: ${String((outcome.reason as { code?: unknown }).code)}`,
      ),
    ).toEqual(["committed", "committed"]);
  });
});
