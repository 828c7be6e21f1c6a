// Generated bad input against every endpoint that reads parameters, on both databases: any
// parameter names and values (repeated, percent-encoded, invalid UTF-8, NUL, very long, numbers
// of every form) and any Authorization header. Never a 5xx; every 4xx is a Matrix error; every
// 200 fits its schema.

import http from "node:http";
import type { AddressInfo } from "node:net";
import Ajv from "ajv";
import fc from "fast-check";
import {
  createRoomTables,
  insertMediaDataset,
  insertStorageDataset,
  randomMediaDataset,
  randomStorageDataset,
  seedRooms,
  STANDARD_TOKENS,
} from "../../fixtures";
import {
  largestRoomsResponseSchema,
  matrixErrorSchema,
  usersMediaResponseSchema,
} from "../../lib/responses";
import {
  largestMediaResponseSchema,
  remoteOriginsResponseSchema,
} from "../../lib/storage-responses";
import { createTestApp, LARGEST_ROOMS, USERS_MEDIA } from "../helpers/app";
import { LARGEST_MEDIA, REMOTE_ORIGINS } from "../helpers/paths";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/databases";

/** Fixed, so a failure reproduces; fast-check prints it (and the shrunk case) on failure. */
const SEED = 20261128;
const RUNS = 2000;

const ajv = new Ajv({ strict: false });
const validBody = {
  [USERS_MEDIA]: ajv.compile(usersMediaResponseSchema),
  [LARGEST_ROOMS]: ajv.compile(largestRoomsResponseSchema),
  [REMOTE_ORIGINS]: ajv.compile(remoteOriginsResponseSchema),
  [LARGEST_MEDIA]: ajv.compile(largestMediaResponseSchema),
};
type Endpoint = keyof typeof validBody;
const validError = ajv.compile(matrixErrorSchema);

/** Every byte outside a few unreserved characters percent-encoded, as a client would send it. */
const encodeBytes = (bytes: Uint8Array): string =>
  [...bytes]
    .map((byte) =>
      /[A-Za-z0-9._~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).padStart(2, "0").toUpperCase()}`,
    )
    .join("");
const encodeText = (text: string): string => encodeBytes(Buffer.from(text, "utf8"));

const KNOWN_NAMES = [
  "from",
  "limit",
  "from_ts",
  "until_ts",
  "order_by",
  "dir",
  "search_term",
  "estimator",
  "source",
  "user_id",
  "origin",
  "access_token",
];

const parameterName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KNOWN_NAMES).map(encodeText) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...KNOWN_NAMES)
      .map((name) =>
        encodeBytes(Buffer.from(name)).replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
      ),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }).map(encodeText) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }).map(encodeBytes) },
);

const numberText = fc.oneof(
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.integer().map(String),
  fc.integer({ min: 0, max: 50 }).map(String),
  fc.double().map(String),
  fc.constantFrom(
    "",
    " ",
    "0x10",
    "1e2",
    "+5",
    "-0",
    "007",
    "5.0",
    "1_000",
    "NaN",
    "Infinity",
    "-",
    "٣",
    "９",
    "9007199254740991",
    "9007199254740992",
  ),
);

const parameterValue = fc.oneof(
  { weight: 4, arbitrary: numberText.map(encodeText) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        "user_id",
        "displayname",
        "media_length",
        "media_count",
        "f",
        "b",
        "planner",
        "sample",
        "origin",
        "local",
        "remote",
        "matrix.org",
        "@alice:test",
      )
      .map(encodeText),
  },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }).map(encodeText) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 24 }).map(encodeBytes) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "%",
      "%zz",
      "%4",
      "%%41",
      "%C3%28",
      "%00",
      "%ED%A0%80",
      "%F4%90%80%80",
      "+",
      "++a+",
      "=",
      "a=b=c",
    ),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 900, maxLength: 3000 }).map(encodeText) },
);

const queryString = fc
  .array(fc.tuple(parameterName, parameterValue, fc.boolean()), { maxLength: 8 })
  .map((pairs) =>
    pairs
      .map(([name, value, withEquals]) => (withEquals || value !== "" ? `${name}=${value}` : name))
      .join("&"),
  );

// Header values Node can send: tab, printable ASCII and latin1 (no CR, LF or other controls).
const headerText = fc
  .array(
    fc.oneof(
      fc.constant(0x09),
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.integer({ min: 0x80, max: 0xff }),
    ),
    { maxLength: 60 },
  )
  .map((codes) => String.fromCharCode(...codes).trim());

type Auth = { header?: string; query?: string };
const authentication: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ header: `Bearer ${STANDARD_TOKENS.admin}` }) },
  { weight: 2, arbitrary: fc.constant({ query: STANDARD_TOKENS.admin }) },
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.constant({ header: `Bearer ${STANDARD_TOKENS.user}` }) },
  {
    weight: 1,
    arbitrary: fc.constant({
      header: `Bearer ${STANDARD_TOKENS.admin}`,
      query: STANDARD_TOKENS.admin,
    }),
  },
  { weight: 2, arbitrary: headerText.map((header) => ({ header })) },
  { weight: 2, arbitrary: headerText.map((token) => ({ header: `Bearer ${token}` })) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: "binary", maxLength: 30 }).map((token) => ({ query: token })),
  },
);

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

function get(agent: http.Agent, port: number, path: string, auth: Auth): Promise<Answer> {
  const query =
    auth.query === undefined
      ? path
      : `${path}${path.includes("?") ? "&" : "?"}access_token=${encodeText(auth.query)}`;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: query,
        agent,
        headers: auth.header === undefined ? {} : { Authorization: auth.header },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"]),
            body,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function checkAnswer(endpoint: Endpoint, answer: Answer): void {
  if (answer.status >= 500) throw new Error(`status ${answer.status}: ${answer.body}`);
  expect(answer.contentType).toMatch(/^application\/json/);
  const body: unknown = JSON.parse(answer.body);
  if (answer.status === 200) {
    if (!validBody[endpoint](body))
      throw new Error(`200 body breaks its schema: ${answer.body.slice(0, 300)}`);
  } else if (!validError(body)) {
    throw new Error(`${answer.status} without a Matrix error body: ${answer.body.slice(0, 300)}`);
  }
}

describe.each(DATABASE_KINDS)("generated requests on %s", (kind) => {
  const db = useTestDatabase(kind, async (knex) => {
    await insertMediaDataset(knex, randomMediaDataset({ seed: 99, users: 60 }));
    await insertStorageDataset(knex, randomStorageDataset({ seed: 99, now: Date.now() }));
    if (kind === "postgres") {
      await createRoomTables(knex);
      await seedRooms(knex, { seed: 99, rooms: 30, events: 3000 });
      await knex.raw("ANALYZE");
    }
  });
  let server: http.Server;
  let agent: http.Agent;
  let port: number;
  beforeAll(async () => {
    server = http.createServer(createTestApp({ knex: db.current.knex }));
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    port = (server.address() as AddressInfo).port;
    agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  });
  afterAll(() => {
    agent.destroy();
    server.close();
  });

  test.each([USERS_MEDIA, LARGEST_ROOMS, REMOTE_ORIGINS, LARGEST_MEDIA] as const)(
    `${RUNS} generated requests to %s: never a 5xx, every 4xx a Matrix error, every 200 its schema`,
    async (endpoint) => {
      await fc.assert(
        fc.asyncProperty(queryString, authentication, async (query, auth) => {
          checkAnswer(
            endpoint,
            await get(agent, port, query === "" ? endpoint : `${endpoint}?${query}`, auth),
          );
        }),
        { numRuns: RUNS, seed: SEED },
      );
    },
    240_000,
  );
});
