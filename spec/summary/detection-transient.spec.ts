// Whether the summary is installed is looked up once a minute and kept. A lookup that failed
// because the database went away under it (a restart, a failover) says nothing about the
// summary: it must not be kept as "not installed", or every request of the next minute would
// scan the media tables instead (tens of seconds at 10M media). PostgreSQL only: the session is
// ended by a proxy at the lookup's own statement.

import knexFactory, { type Knex } from "knex";
import request from "supertest";
import { insertStorageDataset, randomStorageDataset, STANDARD_TOKENS } from "../../fixtures";
import { installMediaUsageSummary } from "../../lib";
import type { StorageOverview } from "../../lib/storage-types";
import type { UsersMediaResponse } from "../../lib/types";
import { ClientGoneError } from "../../lib/errors";
import {
  createStorageSummarySource,
  type StorageSummarySource,
} from "../../lib/storage/storage-summary-store";
import { createTestApp } from "../helpers/app";
import { openTestDatabase, type TestDatabase } from "../helpers/databases";
import { STORAGE_OVERVIEW, USERS_MEDIA } from "../helpers/paths";
import { startClosingProxy } from "../helpers/tcp-proxy";

let database: TestDatabase;
let direct: { overview: StorageOverview; users: UsersMediaResponse };

beforeAll(async () => {
  database = await openTestDatabase("postgres");
  await insertStorageDataset(database.knex, randomStorageDataset({ seed: 41, now: Date.now() }));
  await installMediaUsageSummary(database.knex);
  // Summaries that say one more local file and one more byte for every user than the media
  // tables do: an answer with them was read from the summary.
  await database.knex("sas_media_overview").where({ source: "local" }).increment("media_count", 1);
  await database.knex("sas_user_media_usage").increment("media_length", 1);
  const app = createTestApp({ knex: database.knex });
  direct = {
    overview: (await get(app, STORAGE_OVERVIEW)) as StorageOverview,
    users: (await get(
      app,
      `${USERS_MEDIA}?order_by=media_length&dir=b&limit=5`,
    )) as UsersMediaResponse,
  };
}, 60_000);

afterAll(() => database.close());

async function get(app: ReturnType<typeof createTestApp>, path: string): Promise<unknown> {
  const res = await request(app).get(path).set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
  expect({ path, status: res.status }).toEqual({ path, status: 200 });
  return res.body as unknown;
}

/** The router on a pool whose session is ended the first time it sends `statementText`. */
async function routerEndedAt(statementText: string) {
  const proxy = await startClosingProxy(
    new URL(database.url ?? ""),
    (chunk) => chunk.includes(statementText),
    1,
  );
  const knex: Knex = knexFactory({
    client: "pg",
    version: "15",
    connection: proxy.url,
    pool: { min: 0, max: 4 },
    log: {
      warn: () => undefined,
      error: () => undefined,
      debug: () => undefined,
      deprecate: () => undefined,
    },
  });
  return {
    app: createTestApp({ knex }),
    closed: proxy.closed,
    close: async () => {
      await knex.destroy();
      await proxy.close();
    },
  };
}

test("the storage endpoints still read the summary after its lookup lost its connection", async () => {
  // The storage part's lookup is the statement that asks for its index's validity.
  const router = await routerEndedAt("indisvalid");
  try {
    const overview = (await get(router.app, STORAGE_OVERVIEW)) as StorageOverview;
    expect(router.closed()).toBe(1);
    expect(overview.local_media).toEqual(direct.overview.local_media);
  } finally {
    await router.close();
  }
});

test("the users' media endpoint still reads the summary after its lookup lost its connection", async () => {
  const router = await routerEndedAt("has_table_privilege");
  try {
    const users = await get(router.app, `${USERS_MEDIA}?order_by=media_length&dir=b&limit=5`);
    expect(router.closed()).toBe(1);
    expect(users).toEqual(direct.users);
  } finally {
    await router.close();
  }
});

describe("a lookup that failed with the request is not kept", () => {
  const read = (source: StorageSummarySource, trx: Knex.Transaction) =>
    source.read(
      trx,
      async () => "summary",
      async () => "scan",
    );

  test("refused because the client left: the next request reads the summary", async () => {
    const source = createStorageSummarySource();
    const gone = await database.knex.transaction();
    // What the request scope does once its client has left: every statement is refused.
    gone.on("query", () => {
      throw new ClientGoneError();
    });
    try {
      await expect(read(source, gone)).rejects.toBeInstanceOf(ClientGoneError);
    } finally {
      gone.removeAllListeners("query");
      await gone.rollback().catch(() => undefined);
    }
    const next = await database.knex.transaction();
    try {
      expect(await read(source, next)).toBe("summary");
    } finally {
      await next.rollback();
    }
  });

  test("cancelled by the statement timeout: the next request reads the summary", async () => {
    const source = createStorageSummarySource();
    const slow = await database.knex.transaction();
    await slow.raw("SET LOCAL statement_timeout = '1ms'");
    // The summary's read is cancelled, and so is the look that follows it.
    try {
      await expect(
        source.read(
          slow,
          async () => {
            await slow.raw("SELECT pg_sleep(0.05)");
            return "summary";
          },
          async () => "scan",
        ),
      ).rejects.toMatchObject({ code: "57014" });
    } finally {
      await slow.rollback().catch(() => undefined);
    }
    const next = await database.knex.transaction();
    try {
      expect(await read(source, next)).toBe("summary");
    } finally {
      await next.rollback();
    }
  });
});
