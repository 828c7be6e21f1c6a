// Issue 11, item 7: memory. "16 concurrent limit=1000000000 requests on 300k users took the
// process from 281 MB to 2,078 MB RSS." Synapse has no cap on `limit` and neither do we: a
// large page is now written as it is read (a server-side cursor on PostgreSQL), the answer
// byte for byte what it was, and a client that stops reading is cut off once its connection
// has been silent too long. The full-scale target is measured by `npm run bench:memory`; here
// the scenario runs at a quarter of the users.

import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { insertMediaDataset, randomMediaDataset, STANDARD_TOKENS } from "../../fixtures";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import { startCli, type RunningCli } from "../helpers/cli";
import { DATABASE_VARIANTS, useTestDatabase, type DatabaseKind } from "../helpers/databases";
import { expectedUsersMedia, type OracleQuery } from "../helpers/oracle";
import { clientOf, type Answer } from "./http-client";
import { createManyUsersSqliteFile, insertManyUsers } from "./many-users";

// More users than a page read whole (1000) holds, some with displaynames JSON must escape.
const GENERATED = randomMediaDataset({ seed: 117, users: 1500, maxMediaPerUser: 3 });
const ESCAPED = [
  '"quoted"',
  "back\\slash",
  "tab\there\nand a newline",
  "\u0001 control",
  "emoji \u{1F389}",
  "line\u2028separator",
  "del\u007f",
  "</script>",
];
const DATASET = {
  ...GENERATED,
  profiles: GENERATED.profiles.map((profile, index) => ({
    ...profile,
    displayname: ESCAPED[index] ?? profile.displayname,
  })),
};

const LARGE_PAGES: OracleQuery[] = [
  { limit: 1_000_000_000 },
  { limit: 1_000_000_000, order_by: "media_length", dir: "b" },
  { limit: 1200, from: 7 },
  { limit: 5000, order_by: "displayname" },
  { limit: 2000, search_term: "a", order_by: "media_count" },
  { limit: 2000, from_ts: 2000, until_ts: 5000 },
  { limit: 2000, from: 100_000 },
];

describe.each(DATABASE_VARIANTS)("issue 11.7 on $name: large pages", (variant) => {
  const db = useTestDatabase(variant, (knex) => insertMediaDataset(knex, DATASET));

  test.each(LARGE_PAGES)("%o is the same JSON, byte for byte, as the page whole", async (query) => {
    const search = new URLSearchParams(
      Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]),
    );
    const res = await request(createTestApp({ knex: db.current.knex }))
      .get(`${USERS_MEDIA}?${search}`)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`)
      .buffer(true)
      .parse((response, done) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => done(null, text));
      });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.body).toBe(JSON.stringify(expectedUsersMedia(DATASET, query)));
  });
});

const USERS = 80_000;
// The socket idle timeout of `--queue-timeout 1000 --statement-timeout 100`: 1 + 0.3 + 10 s.
const IDLE_MS = 11_300;
const CONCURRENT = 16;

/** A field of /proc/<pid>/status, in MB: VmRSS now, VmHWM the peak so far. */
function statusMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / 1024;
}

describe.each<DatabaseKind>(["postgres", "sqlite"])(
  "issue 11.7 through the CLI on %s: whole-list requests",
  (kind) => {
    const dir = mkdtempSync(join(tmpdir(), "sas-issue-11-7-"));
    const db = useTestDatabase(kind, async () => undefined, { schema: kind === "postgres" });
    let database: string;

    beforeAll(async () => {
      const users = { users: USERS, media: 2 * USERS };
      if (kind === "postgres") {
        database = db.current.url as string;
        await insertManyUsers(db.current.admin, users);
      } else {
        database = join(dir, "homeserver.db");
        await createManyUsersSqliteFile(database, users);
      }
    }, 120_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test(`${CONCURRENT} concurrent limit=1000000000 requests are each answered 200 or 503, and memory stays bounded`, async () => {
      const cli = await startCli(["serve", "--listen", "127.0.0.1:0", "--database", database]);
      try {
        const client = clientOf(cli.baseUrl);
        expect((await client.get("?limit=10")).status).toBe(200);
        const pid = cli.process.pid as number;
        const before = statusMb(pid, "VmRSS");
        const answers: Answer[] = await Promise.all(
          Array.from({ length: CONCURRENT }, () =>
            client.get("?limit=1000000000", undefined, 120_000),
          ),
        );
        const growth = statusMb(pid, "VmHWM") - before;
        const statuses = answers.map((answer) => answer.status);
        expect(statuses.filter((status) => status !== 200 && status !== 503)).toEqual([]);
        for (const answer of answers.filter((answer) => answer.status === 200)) {
          const body = JSON.parse(answer.body) as { users: unknown[]; total: number };
          expect([body.users.length, body.total]).toEqual([USERS, USERS]);
        }
        // Measured growth before the fix: 558 MB (PostgreSQL) and 325 MB (SQLite); after it,
        // about 65 and 130 MB.
        expect(growth).toBeLessThan(kind === "postgres" ? 200 : 220);
      } finally {
        await cli.stop();
      }
    }, 180_000);

    if (kind === "sqlite") {
      test("a client that stops reading its answer is cut off once its connection has been silent too long", async () => {
        // A connection may stay silent IDLE_MS; Node lets a write in progress off once, so a
        // stalled answer is cut off within twice that.
        const cli: RunningCli = await startCli([
          "serve",
          "--listen",
          "127.0.0.1:0",
          "--statement-timeout",
          "100",
          "--queue-timeout",
          "1000",
          "--database",
          database,
        ]);
        try {
          const client = clientOf(cli.baseUrl);
          const started = Date.now();
          const whole = await client.get("?limit=1000000000", undefined, 60_000);
          expect(whole.status).toBe(200);
          const computing = Date.now() - started;
          // Asks for the same page, reads nothing for long enough, then reads what is left.
          const received = await new Promise<{ bytes: number; closed: boolean }>((resolve) => {
            let bytes = 0;
            const socket = net.connect(client.port, "127.0.0.1", () => {
              socket.write(
                `GET ${USERS_MEDIA}?limit=1000000000 HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${STANDARD_TOKENS.admin}\r\n\r\n`,
              );
              socket.pause();
              setTimeout(
                () => {
                  socket.on("data", (chunk: Buffer) => (bytes += chunk.length));
                  socket.resume();
                  // Left open (keep-alive), the connection would outlive this.
                  setTimeout(() => resolve({ bytes, closed: false }), 3000);
                },
                computing + 2 * IDLE_MS + 5000,
              );
            });
            socket.on("close", () => resolve({ bytes, closed: true }));
            socket.on("error", () => undefined);
          });
          expect(received.closed).toBe(true);
          // Cut short: less than the whole answer (its body alone is that long).
          expect(received.bytes).toBeLessThan(Buffer.byteLength(whole.body));
          // Its database slot is free again: the next request is served.
          expect((await client.get("?limit=1")).status).toBe(200);
        } finally {
          await cli.stop();
        }
      }, 180_000);
    }
  },
);
