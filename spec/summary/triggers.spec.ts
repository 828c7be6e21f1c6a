// Every way a change to local_media_repository reaches the summary, on SQLite and PostgreSQL:
// after each, the summary must equal the media table's aggregate, and the particular rows the
// change touched must say what the contract says.

import type { Knex } from "knex";
import { insertMedia, type MediaRow } from "../../fixtures";
import { DATABASE_KINDS } from "../helpers/databases";
import { summaryRowOf, summaryRows } from "../helpers/media-usage";
import { useExactSummary } from "./exact-summary";

let nextId = 0;
const media = (userId: string | null, length: number | null): MediaRow => ({
  media_id: `t${(nextId++).toString().padStart(5, "0")}`,
  user_id: userId,
  media_length: length,
  created_ts: 1_000,
});

const row = (user_id: string, media_count: number, media_length: number) => ({
  user_id,
  media_count,
  media_length,
});

describe.each(DATABASE_KINDS)("the summary's triggers on %s", (kind) => {
  // Whatever a test checks, the whole summary must still equal the aggregate after it.
  const database = useExactSummary(kind, [media("@seed:test", 1)]);
  let knex: Knex;
  beforeEach(() => {
    knex = database();
  });

  const media$ = () => knex("local_media_repository");
  const user = (name: string) => `@${name}.${kind}:test`;

  test("a user's first upload creates their row, later ones add to it", async () => {
    await insertMedia(knex, [media(user("first"), 100)]);
    expect(await summaryRowOf(knex, user("first"))).toEqual(row(user("first"), 1, 100));
    await insertMedia(knex, [media(user("first"), 50)]);
    expect(await summaryRowOf(knex, user("first"))).toEqual(row(user("first"), 2, 150));
  });

  test("an upload of unknown length counts as one medium of 0 bytes", async () => {
    await insertMedia(knex, [media(user("nolength"), null), media(user("nolength"), 7)]);
    expect(await summaryRowOf(knex, user("nolength"))).toEqual(row(user("nolength"), 2, 7));
  });

  test("media of no user change nothing", async () => {
    const before = await summaryRows(knex);
    await insertMedia(knex, [media(null, 500)]);
    await media$().whereNull("user_id").update({ media_length: 900 });
    await media$().whereNull("user_id").delete();
    expect(await summaryRows(knex)).toEqual(before);
  });

  test("deleting one of a user's media subtracts it", async () => {
    const keep = media(user("deleter"), 10);
    const drop = media(user("deleter"), 30);
    await insertMedia(knex, [keep, drop]);
    await media$().where("media_id", drop.media_id).delete();
    expect(await summaryRowOf(knex, user("deleter"))).toEqual(row(user("deleter"), 1, 10));
  });

  test("deleting a user's last medium removes their row", async () => {
    const only = media(user("gone"), 10);
    await insertMedia(knex, [only, media(user("gone"), null)]);
    await media$().where("user_id", user("gone")).whereNotNull("media_length").delete();
    expect(await summaryRowOf(knex, user("gone"))).toEqual(row(user("gone"), 1, 0));
    await media$().where("user_id", user("gone")).delete();
    expect(await summaryRowOf(knex, user("gone"))).toBeUndefined();
  });

  test("moving a medium to another user moves its count and bytes, and the last one the row", async () => {
    const moved = media(user("giver"), 40);
    await insertMedia(knex, [moved, media(user("taker"), 2)]);
    await media$()
      .where("media_id", moved.media_id)
      .update({ user_id: user("taker") });
    expect(await summaryRowOf(knex, user("giver"))).toBeUndefined();
    expect(await summaryRowOf(knex, user("taker"))).toEqual(row(user("taker"), 2, 42));
  });

  test("moving a medium to a user without media creates their row", async () => {
    const moved = media(user("owner"), 40);
    await insertMedia(knex, [moved, media(user("owner"), 1)]);
    await media$()
      .where("media_id", moved.media_id)
      .update({ user_id: user("newcomer") });
    expect(await summaryRowOf(knex, user("owner"))).toEqual(row(user("owner"), 1, 1));
    expect(await summaryRowOf(knex, user("newcomer"))).toEqual(row(user("newcomer"), 1, 40));
  });

  test("taking a medium's user away (to NULL) subtracts it, and giving it one (from NULL) adds it", async () => {
    const orphaned = media(user("parent"), 25);
    await insertMedia(knex, [orphaned, media(user("parent"), 5)]);
    await media$().where("media_id", orphaned.media_id).update({ user_id: null });
    expect(await summaryRowOf(knex, user("parent"))).toEqual(row(user("parent"), 1, 5));
    await media$()
      .where("media_id", orphaned.media_id)
      .update({ user_id: user("adopter") });
    expect(await summaryRowOf(knex, user("adopter"))).toEqual(row(user("adopter"), 1, 25));
  });

  test("changing a medium's length changes the bytes, to and from NULL too", async () => {
    const resized = media(user("resizer"), 100);
    await insertMedia(knex, [resized, media(user("resizer"), 1)]);
    const lengths: Array<[number | null, number]> = [
      [300, 301],
      [null, 1],
      [null, 1],
      [0, 1],
      [70, 71],
    ];
    for (const [length, total] of lengths) {
      await media$().where("media_id", resized.media_id).update({ media_length: length });
      expect(await summaryRowOf(knex, user("resizer"))).toEqual(row(user("resizer"), 2, total));
    }
  });

  test("changing user and length at once moves the new length", async () => {
    const both = media(user("from"), 10);
    await insertMedia(knex, [both, media(user("from"), 1)]);
    await media$()
      .where("media_id", both.media_id)
      .update({ user_id: user("to"), media_length: 99 });
    expect(await summaryRowOf(knex, user("from"))).toEqual(row(user("from"), 1, 1));
    expect(await summaryRowOf(knex, user("to"))).toEqual(row(user("to"), 1, 99));
  });

  test("updates of other columns, and of user or length to the same value, change nothing", async () => {
    const touched = media(user("toucher"), 10);
    await insertMedia(knex, [touched]);
    const before = await summaryRows(knex);
    await media$()
      .where("media_id", touched.media_id)
      .update({ last_access_ts: 5_000, quarantined_by: "@admin:test" });
    await media$()
      .where("media_id", touched.media_id)
      .update({ user_id: user("toucher"), media_length: 10 });
    await media$()
      .where("media_id", touched.media_id)
      .update({ media_id: `${touched.media_id}-renamed` });
    expect(await summaryRows(knex)).toEqual(before);
  });

  test("a statement inserting many rows for several users counts each", async () => {
    const rows = Array.from({ length: 30 }, (_, i) =>
      media(user(`bulk${i % 4}`), i % 5 === 0 ? null : i),
    );
    await knex("local_media_repository").insert(
      rows.map(({ media_id, user_id, media_length, created_ts }) => ({
        media_id,
        user_id,
        media_length,
        created_ts,
      })),
    );
    expect(await summaryRowOf(knex, user("bulk0"))).toEqual(
      row(
        user("bulk0"),
        8,
        rows
          .filter((r) => r.user_id === user("bulk0"))
          .reduce((s, r) => s + (r.media_length ?? 0), 0),
      ),
    );
  });

  test("a statement moving every medium of one set of users to another, and back, keeps every row right", async () => {
    const rows = Array.from({ length: 24 }, (_, i) => media(user(`swap${i % 3}`), i * 3));
    await insertMedia(knex, rows);
    // swap0 -> swap1, swap1 -> swap2, swap2 -> swap0, in one statement.
    await knex.raw(
      `UPDATE local_media_repository
          SET user_id = CASE user_id WHEN ? THEN ? WHEN ? THEN ? ELSE ? END,
              media_length = media_length + 1
        WHERE user_id IN (?, ?, ?)`,
      [
        user("swap0"),
        user("swap1"),
        user("swap1"),
        user("swap2"),
        user("swap0"),
        user("swap0"),
        user("swap1"),
        user("swap2"),
      ],
    );
    expect((await summaryRowOf(knex, user("swap1")))?.media_count).toBe(8);
    await media$().where("user_id", "like", `@swap%.${kind}:test`).update({ user_id: null });
    expect(await summaryRowOf(knex, user("swap0"))).toBeUndefined();
  });

  test("a statement deleting the media of several users at once removes their rows", async () => {
    await insertMedia(
      knex,
      Array.from({ length: 20 }, (_, i) => media(user(`purge${i % 5}`), i)),
    );
    await media$()
      .where("user_id", "like", `@purge%.${kind}:test`)
      .andWhere("media_length", ">", 4)
      .delete();
    expect(await summaryRowOf(knex, user("purge1"))).toEqual(row(user("purge1"), 1, 1));
    await media$().where("user_id", "like", `@purge%.${kind}:test`).delete();
    expect(await summaryRowOf(knex, user("purge1"))).toBeUndefined();
  });

  test("emptying the media table empties the summary, and uploads after it start afresh", async () => {
    await insertMedia(knex, [media(user("before"), 3)]);
    // PostgreSQL's TRUNCATE fires no row trigger, only its own; SQLite has DELETE without WHERE.
    await knex.raw(
      kind === "postgres"
        ? "TRUNCATE local_media_repository"
        : "DELETE FROM local_media_repository",
    );
    expect(await summaryRows(knex)).toEqual([]);
    await insertMedia(knex, [media(user("after"), 4)]);
    expect(await summaryRows(knex)).toEqual([row(user("after"), 1, 4)]);
  });
});
