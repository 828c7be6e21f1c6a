// A page of more than 1000 users is written as it is read. What happens when the reading fails
// after part of the answer is out: the failure is logged, the connection cut (the client sees a
// short body, never a complete-looking wrong one), and the service goes on.

import net from "node:net";
import { STANDARD_TOKENS } from "../../fixtures";
import { createTestApp, recordingLogger, USERS_MEDIA } from "../helpers/app";
import { useTestDatabase } from "../helpers/databases";
import { eventually, poolIdle, serve } from "./http-client";
import { useRouterPool } from "./router-pool";
import { insertManyUsers } from "./many-users";

describe("a streamed page on PostgreSQL whose connection is lost half-way", () => {
  // About 10 MB of answer: more than the socket buffers between a paused client and us.
  const db = useTestDatabase("postgres", (knex) =>
    insertManyUsers(knex, { users: 100_000, media: 100_000 }),
  );
  const router = useRouterPool(db, "sas-streamed-page", 4);

  test("is cut short and logged, and the next request is served", async () => {
    const { logger, records } = recordingLogger();
    const app = await serve(createTestApp({ knex: router.knex, logger }));
    try {
      let received = "";
      const socket = net.connect(app.port, "127.0.0.1", () => {
        socket.write(
          `GET ${USERS_MEDIA}?limit=1000000000 HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${STANDARD_TOKENS.admin}\r\n\r\n`,
        );
      });
      socket.setEncoding("latin1");
      socket.once("data", (chunk: string) => {
        received += chunk;
        // Stop reading: the cursor waits for us, its transaction open.
        socket.pause();
        socket.on("data", (more: string) => (received += more));
      });
      const closed = new Promise<void>((done) => socket.on("close", () => done()));
      const waiting = async (): Promise<boolean> =>
        (await router.sessions("idle in transaction", "FETCH%")) > 0;
      expect(await eventually(waiting, 20_000)).toBe(true);
      await router.terminate();
      socket.resume();
      await closed;
      expect(received).toMatch(/^HTTP\/1\.1 200 /);
      expect(received).toMatch(/transfer-encoding: chunked/i);
      // The chunked body never got its last chunk: the client can tell it is incomplete.
      expect(received.endsWith("0\r\n\r\n")).toBe(false);
      expect(records.map((record) => record.message)).toContain(
        "the answer failed after it had begun; the connection was cut",
      );
      expect((await app.get("?limit=1")).status).toBe(200);
    } finally {
      await app.close();
    }
  }, 60_000);
});

describe("a streamed page on SQLite whose client leaves half-way", () => {
  const db = useTestDatabase("sqlite", (knex) =>
    insertManyUsers(knex, { users: 100_000, media: 100_000 }),
  );

  test("stops reading, gives the connection back, and the next request is served", async () => {
    const knex = db.current.knex;
    const app = await serve(createTestApp({ knex }));
    try {
      const socket = net.connect(app.port, "127.0.0.1", () => {
        socket.write(
          `GET ${USERS_MEDIA}?limit=1000000000&order_by=media_length HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${STANDARD_TOKENS.admin}\r\n\r\n`,
        );
      });
      // Leaves as soon as the answer has begun.
      await new Promise<void>((done) =>
        socket.once("data", () => {
          socket.destroy();
          done();
        }),
      );
      expect(await eventually(() => poolIdle(knex), 5000)).toBe(true);
      const next = await app.get("?limit=1");
      expect(next.status).toBe(200);
      expect(JSON.parse(next.body)).toMatchObject({ total: 100_000 });
    } finally {
      await app.close();
    }
  }, 60_000);
});
