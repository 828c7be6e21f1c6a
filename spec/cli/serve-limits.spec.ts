// `serve`'s pool and admission flags: a bad value is one usage line and exit 2 before anything
// opens; good ones reach the router, whose limits the requests then meet. The limits act the
// same on either database (spec/resources covers both); held back here by a PostgreSQL lock.

import { insertMediaDataset, randomMediaDataset, STANDARD_TOKENS } from "../../fixtures";
import { runCliToEnd, startCli } from "../helpers/cli";
import { useTestDatabase } from "../helpers/databases";
import { USERS_MEDIA } from "../helpers/paths";

test.each([
  ["--pool-size", "0"],
  ["--max-concurrent-queries", "0"],
  ["--max-concurrent-queries", "1.5"],
  ["--max-queued-queries", "-1"],
  ["--queue-timeout", "abc"],
  ["--queue-timeout", "2147483648"],
])("serve %s %s is a usage error naming the flag, exit 2", (flag, value) => {
  // `--flag=value`: a value starting with a dash is an argument only in that form.
  const result = runCliToEnd(["serve", "--database", "/nonexistent.sqlite", `${flag}=${value}`]);
  expect(result.status).toBe(2);
  expect(result.stderr.trim().split("\n")).toEqual([
    expect.stringContaining(`${flag} must be a whole number`),
  ]);
});

test("serve --help lists the limit flags", () => {
  const help = runCliToEnd(["serve", "--help"]).stdout;
  for (const flag of [
    "--pool-size",
    "--max-concurrent-queries",
    "--max-queued-queries",
    "--queue-timeout",
  ]) {
    expect(help).toContain(flag);
  }
});

describe("serve with --max-concurrent-queries 1 --max-queued-queries 1 --queue-timeout 300", () => {
  const db = useTestDatabase("postgres", (knex) =>
    insertMediaDataset(knex, randomMediaDataset({ seed: 119, users: 20 })),
  );

  test("one request runs, one waits 300 ms then gets 503 with Retry-After, one is refused at once", async () => {
    const url = db.current.url;
    if (url === undefined) throw new Error("no PostgreSQL URL");
    const cli = await startCli([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--database",
      url,
      "--pool-size",
      "3",
      "--max-concurrent-queries",
      "1",
      "--max-queued-queries",
      "1",
      "--queue-timeout",
      "300",
    ]);
    const get = async () => {
      const res = await fetch(`${cli.baseUrl}${USERS_MEDIA}?order_by=media_count`, {
        headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` },
      });
      return { status: res.status, retryAfter: res.headers.get("retry-after") };
    };
    try {
      expect((await get()).status).toBe(200);
      const lock = await db.current.admin.transaction();
      await lock.raw("LOCK TABLE local_media_repository IN ACCESS EXCLUSIVE MODE");
      const settled: Array<{ status: number; retryAfter: string | null }> = [];
      const pending = Array.from({ length: 3 }, () =>
        get().then((answer) => {
          settled.push(answer);
          return answer;
        }),
      );
      try {
        for (let waited = 0; settled.length < 2 && waited < 5000; waited += 50) {
          await new Promise((done) => setTimeout(done, 50));
        }
        expect(settled.map((answer) => answer.status)).toEqual([503, 503]);
        for (const answer of settled) expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      } finally {
        await lock.commit();
      }
      expect((await Promise.all(pending)).map((answer) => answer.status).sort()).toEqual([
        200, 503, 503,
      ]);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });
});
