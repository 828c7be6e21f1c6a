// Issue 11, item 12: the small things an operator meets first: OPTIONS under --no-cors, Node's
// own 431/400 answers, the help texts and exit codes, --listen, and limit=0.

import net from "node:net";
import request from "supertest";
import { insertMediaDataset, randomMediaDataset, STANDARD_TOKENS } from "../../fixtures";
import {
  createSqliteSynapseFile,
  runCliToEnd,
  useServedSqlite,
  type SqliteSynapseFile,
} from "../helpers/cli";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/databases";

const OPENAPI = "/_synapse/admin/v1/statistics/openapi.json";

let database: SqliteSynapseFile;
let file: string;
beforeAll(async () => {
  database = await createSqliteSynapseFile();
  file = database.file;
});
afterAll(() => database?.remove());

/** Sends `head` as written and returns the raw answer. */
function rawExchange(baseUrl: string, head: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(head));
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    socket.on("close", () => resolve(received));
    socket.on("error", reject);
  });
}

const bodyOf = (raw: string): unknown => JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));

describe("serve --no-cors", () => {
  const served = useServedSqlite(["--no-cors"]);

  test.each([USERS_MEDIA, "/_synapse/admin/v1/statistics/database/rooms", OPENAPI])(
    "OPTIONS %s is 2xx without CORS headers, for a proxy that adds them",
    async (path) => {
      const res = await fetch(`${served.cli.baseUrl}${path}`, {
        method: "OPTIONS",
        headers: { Origin: "https://admin.example", "Access-Control-Request-Method": "GET" },
      });
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    },
  );
});

describe("Node's own answers to malformed requests", () => {
  const served = useServedSqlite();

  test("headers over 16 KB are 431 with a Matrix JSON body", async () => {
    const raw = await rawExchange(
      served.cli.baseUrl,
      `GET ${USERS_MEDIA} HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    expect(raw).toMatch(/\r\ncontent-type: application\/json/i);
    expect(bodyOf(raw)).toEqual({ errcode: "M_UNKNOWN", error: expect.any(String) });
  });

  test("a NUL in a header is 400 with a Matrix JSON body", async () => {
    const raw = await rawExchange(
      served.cli.baseUrl,
      `GET ${USERS_MEDIA} HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(raw)).toEqual({ errcode: "M_UNKNOWN", error: expect.any(String) });
  });

  test("the service keeps serving after them", async () => {
    const res = await fetch(`${served.cli.baseUrl}${USERS_MEDIA}`, {
      headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` },
    });
    expect(res.status).toBe(200);
  });
});

describe("help and usage", () => {
  test("serve --help prints serve's own help", () => {
    const result = runCliToEnd(["serve", "--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/synapse-admin-statistics serve/);
    expect(result.stdout).toContain("--database");
    expect(result.stdout).not.toContain("--embedded-postgres");
    expect(result.stdout).not.toContain("summary commands");
  });

  test("demo --help prints demo's own help", () => {
    const result = runCliToEnd(["demo", "--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("--embedded-postgres");
    expect(result.stdout).not.toContain("--state-database");
  });

  test("summary --help prints summary's own help", () => {
    const result = runCliToEnd(["summary", "--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("verify");
    expect(result.stdout).not.toContain("--embedded-postgres");
  });

  test("no arguments: the help goes to stderr, with exit code 2", () => {
    const result = runCliToEnd([]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Usage:");
  });

  test("--help still prints the general help on stdout with exit 0", () => {
    const result = runCliToEnd(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Usage:");
  });

  test("--log-level's error lists exactly the levels the help lists", () => {
    const help = runCliToEnd(["serve", "--help"]).stdout;
    const error = runCliToEnd(["serve", "--log-level", "loud", "--database", file]);
    expect(error.status).toBe(2);
    const listed = /--log-level must be one of ([a-z, ]+), not/.exec(error.stderr)?.[1];
    expect(listed).toBeDefined();
    for (const level of (listed ?? "").split(", ")) expect(help).toContain(level);
    expect(help).toContain("trace");
  });

  test("--listen garbage is a usage error: exit 2, one line", () => {
    for (const value of ["garbage", "no such host:80", "[::1", "1.2.3.4:99999"]) {
      const result = runCliToEnd(["serve", "--listen", value, "--database", file]);
      expect({ value, status: result.status }).toEqual({ value, status: 2 });
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(/--listen|port|cannot listen on/);
    }
  });

  test("the help says --listen :port binds 127.0.0.1 only", () => {
    const help = runCliToEnd(["serve", "--help"]).stdout;
    expect(help).toMatch(/:port[^\n]*127\.0\.0\.1 only/);
    expect(help).toMatch(/0\.0\.0\.0:port/);
  });
});

describe.each(DATABASE_KINDS)("limit=0 on %s", (kind) => {
  const DATASET = randomMediaDataset({ seed: 110, users: 5 });
  const db = useTestDatabase(kind, (knex) => insertMediaDataset(knex, DATASET));

  test("answers no users and next_token 0, as Synapse does", async () => {
    const res = await request(createTestApp({ knex: db.current.knex }))
      .get(`${USERS_MEDIA}?limit=0`)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ users: [], total: 5, next_token: 0 });
  });
});
