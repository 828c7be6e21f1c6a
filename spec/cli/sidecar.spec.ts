// The sidecar in production, as an operator runs it: health and readiness probes, Prometheus
// metrics on a listener of their own, and tokens checked by Synapse (--synapse-url). The real
// binary, real databases, real HTTP.

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import {
  createScratchPostgres,
  createSynapseSchema,
  insertAccounts,
  insertLocalThumbnails,
  insertMedia,
  insertMediaDataset,
  insertRemoteMedia,
  insertRemoteThumbnails,
  openSqlite,
  randomMediaDataset,
  STANDARD_ACCOUNTS,
  STANDARD_TOKENS,
  withDatabase,
  type ScratchDatabase,
} from "../../fixtures";
import type { StorageOverview } from "../../lib/storage-types";
import { runCliToEnd, startCli, type RunningCli } from "../helpers/cli";
import { postgresServerUrl } from "../helpers/databases";
import { startFakeSynapse, type FakeSynapse } from "../helpers/fake-synapse";
import { LARGEST_MEDIA, REMOTE_ORIGINS, STORAGE_OVERVIEW, USERS_MEDIA } from "../helpers/paths";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";

const DATASET = randomMediaDataset({ seed: 10, users: 12 });
const LOCAL_MEDIA = {
  count: DATASET.media.length,
  bytes: DATASET.media.reduce((sum, row) => sum + (row.media_length ?? 0), 0),
};
const LOCAL_THUMBNAILS = [120, 4_096, null, 77];
const REMOTE_MEDIA = [1_000, 20_000, null, 300_000];
const REMOTE_THUMBNAILS = [64, 128];
const sum = (values: ReadonlyArray<number | null>): number =>
  values.reduce<number>((total, value) => total + (value ?? 0), 0);

const authorized = { headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` } };
const wait = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function seed(knex: Knex, remote: boolean): Promise<void> {
  await createSynapseSchema(knex);
  await insertAccounts(knex, STANDARD_ACCOUNTS);
  await insertMediaDataset(knex, DATASET);
  await insertLocalThumbnails(
    knex,
    LOCAL_THUMBNAILS.map((length, i) => ({
      media_id: `thumb-${i}`,
      thumbnail_width: 32,
      thumbnail_height: 32 + i,
      thumbnail_type: "image/jpeg",
      thumbnail_method: "scale",
      thumbnail_length: length,
    })),
  );
  if (!remote) {
    // A database without the remote cache tables: their gauges are left out, not failed.
    await knex.raw("DROP TABLE remote_media_cache");
    await knex.raw("DROP TABLE remote_media_cache_thumbnails");
    return;
  }
  await insertRemoteMedia(
    knex,
    REMOTE_MEDIA.map((length, i) => ({
      media_origin: `origin${i % 2}.test`,
      media_id: `remote-${i}`,
      created_ts: 1_000 + i,
      media_length: length,
    })),
  );
  await insertRemoteThumbnails(
    knex,
    REMOTE_THUMBNAILS.map((length, i) => ({
      media_origin: "origin0.test",
      media_id: `remote-${i}`,
      thumbnail_width: 32,
      thumbnail_height: 32,
      thumbnail_method: "crop",
      thumbnail_type: "image/png",
      thumbnail_length: length,
    })),
  );
}

/** A seeded SQLite file (without the remote media tables) in a new temporary folder. */
async function seededSqliteFile(prefix: string): Promise<{ dir: string; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, "homeserver.db");
  const knex = openSqlite(file);
  try {
    await seed(knex, false);
  } finally {
    await knex.destroy();
  }
  return { dir, file };
}

/** `serve` with a metrics listener, ready once the first storage refresh is logged. */
function startWithMetrics(
  interval: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<RunningCli> {
  return startCli(
    [
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--metrics-listen",
      "127.0.0.1:0",
      "--metrics-interval",
      interval,
      ...args,
    ],
    env,
    60_000,
    '"msg":"storage figures refreshed"',
  );
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name ?? ""] = value ?? "";
    }
    samples.push({ name: match[1] ?? "", labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of one series, or undefined when it is not exposed. */
function valueOf(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value;
}

const P = "synapse_admin_statistics_";

function metricsUrl(cli: RunningCli): string {
  const line = cli.logs().find((entry) => entry.msg === "metrics listening");
  if (!line) throw new Error("no metrics listener logged");
  return `${String(line.listen)}/metrics`;
}

async function scrape(cli: RunningCli): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(metricsUrl(cli));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseMetrics(text) };
}

/** Resolves once a log line matches (or fails after `timeoutMs`). */
async function waitForLog(
  cli: RunningCli,
  matches: (line: Record<string, unknown>) => boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cli.logs().some(matches)) {
    if (Date.now() > deadline) throw new Error("the expected log line did not come");
    await wait(50);
  }
}

const refreshes = (cli: RunningCli): number =>
  cli.logs().filter((line) => line.msg === "storage figures refreshed").length;

describe("serve's options for health, metrics and Synapse", () => {
  test("--help lists them", () => {
    const result = runCliToEnd(["serve", "--help"]);
    expect(result.status).toBe(0);
    for (const text of [
      "--metrics-listen",
      "--metrics-interval",
      "--synapse-url",
      "--synapse-cache-ttl",
      "/health/ready",
    ]) {
      expect(result.stdout).toContain(text);
    }
  });

  test.each([
    [["--metrics-interval", "1m"], /--metrics-interval needs --metrics-listen/],
    [["--metrics-listen", "0.0.0.0"], /--metrics-listen needs a port/],
    [["--metrics-listen", "[::1:9000"], /--metrics-listen must be host:port/],
    [
      ["--metrics-listen", ":9000", "--metrics-interval", "0"],
      /--metrics-interval must be a positive duration/,
    ],
    [["--metrics-listen", ":9000", "--metrics-interval", "5 min"], /--metrics-interval must be/],
    [["--synapse-url", "localhost:8008"], /--synapse-url must be an http\(s\) URL/],
    [["--synapse-url", "http://a:b@synapse"], /credentials/],
    [["--synapse-cache-ttl", "30s"], /--synapse-cache-ttl needs --synapse-url/],
    [
      ["--synapse-url", "http://synapse", "--synapse-cache-ttl", "1d"],
      /--synapse-cache-ttl must be/,
    ],
  ])("%j is a one-line usage error", (args, message) => {
    const result = runCliToEnd(["serve", "--database", "/nonexistent.db", ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });
});

describe("serve on SQLite with --metrics-listen", () => {
  let dir: string;
  let file: string;
  let cli: RunningCli;
  beforeAll(async () => {
    ({ dir, file } = await seededSqliteFile("sas-sidecar-"));
    cli = await startWithMetrics("1h", [], { DATABASE_URL: file });
  });
  afterAll(async () => {
    await cli?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("GET /health answers 200 OK in plain text, without a token", async () => {
    const res = await fetch(`${cli.baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe("OK");
    expect((await fetch(`${cli.baseUrl}/health`, { method: "HEAD" })).status).toBe(200);
  });

  test("GET /health/ready answers 200 OK while the database answers", async () => {
    const res = await fetch(`${cli.baseUrl}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
  });

  test("probes leave no request line in the log at info level", async () => {
    for (let i = 0; i < 5; i++) {
      await fetch(`${cli.baseUrl}/health`);
      await fetch(`${cli.baseUrl}/health/ready`);
    }
    await wait(100);
    const probeLines = cli
      .logs()
      .filter((line) => typeof line.path === "string" && line.path.startsWith("/health"));
    expect(probeLines).toEqual([]);
  });

  test("the storage gauges are exact for the seeded database", async () => {
    const { samples } = await scrape(cli);
    expect(valueOf(samples, `${P}media_files`, { store: "local", kind: "media" })).toBe(
      LOCAL_MEDIA.count,
    );
    expect(valueOf(samples, `${P}media_bytes`, { store: "local", kind: "media" })).toBe(
      LOCAL_MEDIA.bytes,
    );
    expect(valueOf(samples, `${P}media_files`, { store: "local", kind: "thumbnail" })).toBe(
      LOCAL_THUMBNAILS.length,
    );
    expect(valueOf(samples, `${P}media_bytes`, { store: "local", kind: "thumbnail" })).toBe(
      sum(LOCAL_THUMBNAILS),
    );
    expect(valueOf(samples, `${P}database_size_bytes`, { database: "main" })).toBe(
      statSync(file).size,
    );
    expect(valueOf(samples, `${P}storage_refresh_timestamp_seconds`)).toBeGreaterThan(
      Date.now() / 1000 - 600,
    );
    expect(valueOf(samples, `${P}storage_refresh_failures_total`)).toBe(0);
  });

  test("a database without the remote media tables has no remote gauges, and no failure", async () => {
    const { samples } = await scrape(cli);
    expect(samples.filter((sample) => sample.labels.store === "remote")).toEqual([]);
    // SQLite keeps no per-table sizes short of reading every page.
    expect(samples.filter((sample) => sample.name === `${P}table_size_bytes`)).toEqual([]);
    expect(cli.logs().filter((line) => Number(line.level) >= 40)).toEqual([]);
  });

  test("process metrics are exposed", async () => {
    const { samples } = await scrape(cli);
    expect(valueOf(samples, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(valueOf(samples, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(valueOf(samples, `${P}build_info`)).toBe(1);
  });

  test("request counters and duration histograms move with requests, by route template and status", async () => {
    const before = (await scrape(cli)).samples;
    const endpoint = { endpoint: "/_synapse/admin/v1/statistics/users/media", method: "GET" };
    const count = (samples: Sample[], status: string, name = `${P}requests_total`) =>
      valueOf(samples, name, { ...endpoint, status }) ?? 0;
    for (const query of ["?limit=1", "?search_term=needle", "?order_by=media_length&dir=b"]) {
      expect((await fetch(`${cli.baseUrl}${USERS_MEDIA}${query}`, authorized)).status).toBe(200);
    }
    expect((await fetch(`${cli.baseUrl}${USERS_MEDIA}`)).status).toBe(401);
    expect((await fetch(`${cli.baseUrl}/_matrix/client/versions/@alice:test`)).status).toBe(404);
    await wait(100);
    const after = (await scrape(cli)).samples;
    expect(count(after, "200") - count(before, "200")).toBe(3);
    expect(count(after, "401") - count(before, "401")).toBe(1);
    expect(
      count(after, "200", `${P}request_duration_seconds_count`) -
        count(before, "200", `${P}request_duration_seconds_count`),
    ).toBe(3);
    const other = (samples: Sample[]) =>
      valueOf(samples, `${P}requests_total`, { endpoint: "other", status: "404" }) ?? 0;
    expect(other(after) - other(before)).toBe(1);
  });

  test("no token, user ID, raw path or origin reaches the metrics", async () => {
    await fetch(`${cli.baseUrl}${USERS_MEDIA}?access_token=${STANDARD_TOKENS.admin}`, {
      headers: { Origin: "https://admin.example.net" },
    });
    await fetch(`${cli.baseUrl}/_synapse/admin/v1/users/@alice:test/admin`, authorized);
    await wait(100);
    const { text, samples } = await scrape(cli);
    for (const token of Object.values(STANDARD_TOKENS)) expect(text).not.toContain(token);
    expect(text).not.toContain("@");
    expect(text).not.toContain("admin.example.net");
    expect(text).not.toContain("search_term");
    const endpoints = new Set(
      samples.filter((s) => s.labels.endpoint !== undefined).map((s) => s.labels.endpoint),
    );
    expect([...endpoints].sort()).toEqual(
      ["/_synapse/admin/v1/statistics/users/media", "/health", "/health/ready", "other"].sort(),
    );
  });

  test("a scrape serves the last refresh from memory: no query, however many scrapes", async () => {
    const writer = openSqlite(file);
    try {
      await insertMedia(writer, [
        { media_id: "after-refresh", user_id: "@late:test", media_length: 5, created_ts: 9 },
      ]);
    } finally {
      await writer.destroy();
    }
    for (let i = 0; i < 5; i++) {
      const { samples } = await scrape(cli);
      expect(valueOf(samples, `${P}media_files`, { store: "local", kind: "media" })).toBe(
        LOCAL_MEDIA.count,
      );
    }
    expect(refreshes(cli)).toBe(1);
  });

  test("metrics are on their own listener only", async () => {
    expect((await fetch(`${cli.baseUrl}/metrics`)).status).toBe(404);
    const other = await fetch(metricsUrl(cli).replace(/\/metrics$/, "/other"));
    expect(other.status).toBe(404);
  });
});

describe("serve on PostgreSQL with --metrics-listen, through a link that can be cut", () => {
  let database: ScratchDatabase;
  let proxy: TcpProxy;
  let cli: RunningCli;
  beforeAll(async () => {
    database = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_sidecar" });
    await seed(database.knex, true);
    await database.knex.raw("VACUUM ANALYZE");
    const server = new URL(database.url);
    proxy = await startTcpProxy(server.hostname, Number(server.port || 5432));
    const viaProxy = new URL(database.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    cli = await startWithMetrics("1s", [
      "--database",
      withDatabase(viaProxy.toString(), database.name),
    ]);
  });
  afterAll(async () => {
    await proxy?.restore().catch(() => undefined);
    await cli?.stop();
    await proxy?.close();
    await database?.drop();
  });

  test("the storage gauges are exact, remote media and the largest tables included", async () => {
    const { samples } = await scrape(cli);
    const gauge = (store: string, kind: string, what: "files" | "bytes") =>
      valueOf(samples, `${P}media_${what}`, { store, kind });
    expect(gauge("local", "media", "files")).toBe(LOCAL_MEDIA.count);
    expect(gauge("local", "media", "bytes")).toBe(LOCAL_MEDIA.bytes);
    expect(gauge("local", "thumbnail", "bytes")).toBe(sum(LOCAL_THUMBNAILS));
    expect(gauge("remote", "media", "files")).toBe(REMOTE_MEDIA.length);
    expect(gauge("remote", "media", "bytes")).toBe(sum(REMOTE_MEDIA));
    expect(gauge("remote", "thumbnail", "files")).toBe(REMOTE_THUMBNAILS.length);
    expect(gauge("remote", "thumbnail", "bytes")).toBe(sum(REMOTE_THUMBNAILS));

    const sizes = await database.knex.raw<{ rows: Array<{ db: string; media: string }> }>(
      `SELECT pg_database_size(current_database()) AS db,
              pg_total_relation_size('local_media_repository') AS media`,
    );
    expect(valueOf(samples, `${P}database_size_bytes`, { database: "main" })).toBe(
      Number(sizes.rows[0]?.db),
    );
    const tables = samples.filter((sample) => sample.name === `${P}table_size_bytes`);
    expect(tables.length).toBeGreaterThan(0);
    expect(tables.length).toBeLessThanOrEqual(10);
    expect(
      valueOf(samples, `${P}table_size_bytes`, {
        database: "main",
        table: "local_media_repository",
      }),
    ).toBe(Number(sizes.rows[0]?.media));
  });

  test("the largest tables carry their schema, and the gauges agree with the storage overview", async () => {
    const { samples } = await scrape(cli);
    const media = samples.find(
      (sample) =>
        sample.name === `${P}table_size_bytes` && sample.labels.table === "local_media_repository",
    );
    expect(media?.labels).toEqual({
      database: "main",
      schema: "public",
      table: "local_media_repository",
    });
    const res = await fetch(`${cli.baseUrl}${STORAGE_OVERVIEW}`, authorized);
    expect(res.status).toBe(200);
    const overview = (await res.json()) as StorageOverview;
    const gauge = (store: string, kind: string) => ({
      count: valueOf(samples, `${P}media_files`, { store, kind }),
      bytes: valueOf(samples, `${P}media_bytes`, { store, kind }),
    });
    const totals = ({ count, bytes }: { count: number; bytes: number }) => ({ count, bytes });
    expect(gauge("local", "media")).toEqual(totals(overview.local_media));
    expect(gauge("local", "thumbnail")).toEqual(overview.local_media.thumbnails);
    expect(gauge("remote", "media")).toEqual(totals(overview.remote_media));
    expect(gauge("remote", "thumbnail")).toEqual(overview.remote_media.thumbnails);
  });

  test("the storage endpoints are counted by their own route template, not as other", async () => {
    const before = (await scrape(cli)).samples;
    const paths = [STORAGE_OVERVIEW, REMOTE_ORIGINS, LARGEST_MEDIA];
    for (const path of paths) {
      expect((await fetch(`${cli.baseUrl}${path}?limit=1`, authorized)).status).toBe(200);
    }
    await wait(100);
    const after = (await scrape(cli)).samples;
    const count = (samples: Sample[], endpoint: string) =>
      valueOf(samples, `${P}requests_total`, { endpoint, method: "GET", status: "200" }) ?? 0;
    for (const path of paths) {
      expect({ path, requests: count(after, path) - count(before, path) }).toEqual({
        path,
        requests: 1,
      });
    }
    expect(count(after, "other")).toBe(count(before, "other"));
  });

  test("every metric docs/monitoring.md and the Grafana dashboard name is exported, and every exported one is documented", async () => {
    await fetch(`${cli.baseUrl}/health`); // so that the request series exist
    await wait(100);
    const { samples } = await scrape(cli);
    const exported = new Set(
      samples
        .map((sample) => sample.name)
        .filter((name) => name.startsWith(P))
        .map((name) => name.replace(/_(bucket|sum|count)$/, "")),
    );
    const mentioned = (file: string) =>
      new Set(
        [
          ...readFileSync(join(__dirname, "../../docs", file), "utf8").matchAll(
            /synapse_admin_statistics_\w+/g,
          ),
        ].map(([name]) => name.replace(/_(bucket|sum|count)$/, "")),
      );
    const documented = mentioned("monitoring.md");
    expect([...exported].sort()).toEqual([...documented].sort());
    for (const name of mentioned("grafana-dashboard.json")) expect(exported).toContain(name);
  });

  test("the gauges are refreshed on the interval, no more often", async () => {
    await insertMedia(database.knex, [
      { media_id: "late-upload", user_id: "@late:test", media_length: 11, created_ts: 9 },
    ]);
    const start = refreshes(cli);
    const started = Date.now();
    // Two more refreshes: the second certainly began after the insert.
    await waitForLog(cli, () => refreshes(cli) - start >= 2, 15_000);
    const elapsed = Date.now() - started;
    await wait(300);
    // Each refresh starts 1 s after the last one ended: never more than one a second.
    expect(refreshes(cli) - start).toBeLessThanOrEqual(Math.floor((elapsed + 300) / 1_000) + 1);
    const { samples } = await scrape(cli);
    expect(valueOf(samples, `${P}media_files`, { store: "local", kind: "media" })).toBe(
      LOCAL_MEDIA.count + 1,
    );
  });

  test("readiness is 503 while the database is away, and 200 once it is back; liveness stays 200", async () => {
    expect((await fetch(`${cli.baseUrl}/health/ready`)).status).toBe(200);
    await proxy.cut();
    try {
      const down = await fetch(`${cli.baseUrl}/health/ready`);
      expect(down.status).toBe(503);
      expect(await down.text()).toBe("database unavailable");
      expect((await fetch(`${cli.baseUrl}/health/ready`)).status).toBe(503);
      expect((await fetch(`${cli.baseUrl}/health`)).status).toBe(200);
      // The refresh fails too; the gauges keep the last figures, the failure is counted.
      await wait(1_500);
      const { samples } = await scrape(cli);
      expect(valueOf(samples, `${P}storage_refresh_failures_total`)).toBeGreaterThanOrEqual(1);
      expect(valueOf(samples, `${P}media_files`, { store: "local", kind: "media" })).toBe(
        LOCAL_MEDIA.count + 1,
      );
    } finally {
      await proxy.restore();
    }
    const up = await fetch(`${cli.baseUrl}/health/ready`);
    expect(up.status).toBe(200);
    // The log line travels through a pipe: it may come just after the answer.
    await waitForLog(cli, (line) => line.msg === "ready: the database answers");
    // One line when readiness is lost (with the cause), one when it is back: not one per probe.
    const messages = cli.logs().map((line) => String(line.msg));
    expect(messages.filter((message) => message.startsWith("not ready"))).toEqual([
      "not ready: database unavailable",
    ]);
    expect(messages.filter((message) => message.startsWith("ready"))).toHaveLength(1);
    const warning = cli.logs().find((line) => line.msg === "storage figures refresh failed");
    expect(warning?.level).toBe(40);
    expect(JSON.stringify(warning)).not.toMatch(/select|SELECT/);
  });
});

describe("serve --synapse-url", () => {
  const ADMIN = "syt_cli_delegated_admin_31";
  const USER = "syt_cli_delegated_user_42";
  let dir: string;
  let synapse: FakeSynapse;
  let cli: RunningCli;
  beforeAll(async () => {
    synapse = await startFakeSynapse({
      [ADMIN]: { auth: "synapse", userId: "@root:fake.test", admin: true },
      [USER]: { auth: "synapse", userId: "@alice:fake.test", admin: false },
    });
    let file: string;
    ({ dir, file } = await seededSqliteFile("sas-delegated-"));
    cli = await startCli(
      [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--synapse-url",
        synapse.url,
        "--synapse-cache-ttl",
        "0",
      ],
      { DATABASE_URL: file },
    );
  });
  afterAll(async () => {
    await cli?.stop();
    await synapse?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("checks at start that Synapse answers, without a token", () => {
    expect(cli.logs().find((line) => line.msg === "tokens are checked by Synapse")).toBeDefined();
    expect(synapse.anonymous).toContain("/_matrix/client/versions");
  });

  test("admits exactly Synapse's admins: not the tokens of Synapse's own database", async () => {
    const admin = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    expect(admin.status).toBe(200);
    const user = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
      headers: { Authorization: `Bearer ${USER}` },
    });
    expect(user.status).toBe(403);
    // The database's own admin token means nothing to this Synapse.
    const local = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, authorized);
    expect(local.status).toBe(401);
    expect(((await local.json()) as { errcode: string }).errcode).toBe("M_UNKNOWN_TOKEN");
  });

  test("Synapse down is 503 M_UNKNOWN with Retry-After, one warning, and no token logged", async () => {
    synapse.faults.whoami = { status: 502, body: "Bad gateway" };
    const res = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    synapse.faults = {};
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await res.json()) as { errcode: string }).errcode).toBe("M_UNKNOWN");
    await waitForLog(cli, (line) => line.level === 40);
    await wait(100);
    const warnings = cli.logs().filter((line) => line.level === 40);
    expect(warnings.map((line) => line.msg)).toEqual([
      "cannot check an access token: Synapse answered whoami with HTTP 502",
    ]);
    const { stdout, stderr } = cli.output();
    for (const token of [ADMIN, USER]) {
      expect(stdout).not.toContain(token);
      expect(stderr).not.toContain(token);
    }
  });
});
