// Issue 11, item 5: abandoned requests kept running. "20 requests aborted after 0.3 s kept 10
// backends busy for about 30 s, and a concurrent admin limit=1 got 500 after 16.8 s." When the
// client leaves, its statement is cancelled on the server (pg_cancel_backend; SQLite's
// interrupt) and nothing more runs for it.

import { insertMediaDataset, randomMediaDataset } from "../../fixtures";
import { createTestApp } from "../helpers/app";
import { useTestDatabase } from "../helpers/databases";
import { eventually, poolIdle, serve } from "./http-client";
import { useRouterPool } from "./router-pool";
import { insertManyUsers } from "./many-users";

describe("issue 11.5 on PostgreSQL: requests whose client left stop running", () => {
  const db = useTestDatabase("postgres", (knex) =>
    insertMediaDataset(knex, randomMediaDataset({ seed: 115, users: 40 })),
  );
  // The pool: 10 connections.
  const router = useRouterPool(db, "sas-issue-11-5", 10);

  test("20 requests abandoned after 0.3 s leave no backend busy, and a concurrent limit=1 is answered", async () => {
    const app = await serve(createTestApp({ knex: router.knex }));
    // The media table locked: every statistics statement waits, as a long one would run.
    const lock = await db.current.admin.transaction();
    await lock.raw("LOCK TABLE local_media_repository IN ACCESS EXCLUSIVE MODE");
    try {
      await Promise.all(
        Array.from({ length: 20 }, () => app.abandon("?order_by=media_length", 300)),
      );
      // Their statements were cancelled: no backend of the router is left running one.
      expect(await eventually(async () => (await router.sessions("active")) === 0, 3000)).toBe(
        true,
      );
      expect(await eventually(() => poolIdle(router.knex), 1000)).toBe(true);
    } finally {
      await lock.commit();
    }
    const concurrent = await app.get("?limit=1", undefined, 10_000);
    expect(concurrent.status).toBe(200);
    await app.close();
  }, 60_000);
});

describe("issue 11.5 on SQLite: requests whose client left stop running", () => {
  // Heavy enough that each statistics request takes a second or more on one connection.
  const db = useTestDatabase("sqlite", (knex) =>
    insertManyUsers(knex, { users: 100_000, media: 1_000_000 }),
  );

  test("20 requests abandoned after 0.3 s free the connection, and a concurrent limit=1 is answered", async () => {
    const knex = db.current.knex;
    const app = await serve(createTestApp({ knex }));
    try {
      // A search matching every user reads all the media: seconds for each request.
      await Promise.all(
        Array.from({ length: 20 }, () => app.abandon("?search_term=user&limit=1", 300)),
      );
      // Left running, they would hold the one connection for about 20 x 2 s.
      expect(await eventually(() => poolIdle(knex), 3000)).toBe(true);
      const concurrent = await app.get("?limit=1", undefined, 10_000);
      expect(concurrent.status).toBe(200);
    } finally {
      await app.close();
    }
  }, 120_000);
});
