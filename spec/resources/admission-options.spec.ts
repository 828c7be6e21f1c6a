// The admission options of the router: checked once, at creation (a TypeError names what is
// wrong), and obeyed by every request.

import { insertMediaDataset, openSqlite, randomMediaDataset } from "../../fixtures";
import { createStatisticsRouter } from "../../lib";
import type { StatisticsRouterOptions } from "../../lib/types";
import { createTestApp } from "../helpers/app";
import { useTestDatabase } from "../helpers/databases";
import { eventually, serve, type Answer } from "./http-client";

describe("admission options", () => {
  const knex = openSqlite();
  afterAll(() => knex.destroy());
  const authCheck = () => null;
  const create = (options: Partial<Record<keyof StatisticsRouterOptions, unknown>>) => () =>
    createStatisticsRouter({ knex, authCheck, ...options } as StatisticsRouterOptions);

  test("valid values create a router", () => {
    expect(
      create({ maxConcurrentQueries: 3, maxQueuedQueries: 0, queueTimeoutMs: 1 }),
    ).not.toThrow();
  });

  test.each<[string, unknown]>([
    ["maxConcurrentQueries", 0],
    ["maxConcurrentQueries", 1.5],
    ["maxConcurrentQueries", "4"],
    ["maxConcurrentQueries", Number.POSITIVE_INFINITY],
    ["maxQueuedQueries", -1],
    ["maxQueuedQueries", 2.5],
    ["maxQueuedQueries", null],
    ["queueTimeoutMs", 0],
    ["queueTimeoutMs", 2 ** 31],
    ["queueTimeoutMs", "1000"],
  ])("%s = %p is a TypeError naming the option", (option, value) => {
    expect(create({ [option]: value })).toThrow(TypeError);
    expect(create({ [option]: value })).toThrow(`option "${option}"`);
  });
});

describe("admission options on PostgreSQL", () => {
  const db = useTestDatabase("postgres", (knex) =>
    insertMediaDataset(knex, randomMediaDataset({ seed: 118, users: 20 })),
  );

  test("maxConcurrentQueries, maxQueuedQueries and queueTimeoutMs are obeyed", async () => {
    const app = await serve(
      createTestApp({
        knex: db.current.knex,
        maxConcurrentQueries: 1,
        maxQueuedQueries: 1,
        queueTimeoutMs: 300,
      }),
    );
    const lock = await db.current.admin.transaction();
    await lock.raw("LOCK TABLE local_media_repository IN ACCESS EXCLUSIVE MODE");
    const settled: Answer[] = [];
    const pending = Array.from({ length: 3 }, () =>
      app.get("?order_by=media_count").then((answer) => {
        settled.push(answer);
        return answer;
      }),
    );
    try {
      // One runs (and waits on the lock); one waits its 300 ms in the queue; one finds it full.
      expect(await eventually(() => settled.length === 2, 5000)).toBe(true);
      expect(settled.map((answer) => answer.status)).toEqual([503, 503]);
    } finally {
      await lock.commit();
    }
    expect((await Promise.all(pending)).map((answer) => answer.status).sort()).toEqual([
      200, 503, 503,
    ]);
    await app.close();
  });
});
