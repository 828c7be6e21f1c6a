// A real HTTP server around an app, and the requests the resource specs make to it: plain
// ones with their timing, and ones whose client walks away part-way.

import http from "node:http";
import type { Knex } from "knex";
import type { AddressInfo } from "node:net";
import { STANDARD_TOKENS } from "../../fixtures";
import { USERS_MEDIA } from "../helpers/paths";

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

export interface Served {
  port: number;
  /** GET the users' media path with `query`, as the standard admin unless `token` says otherwise. */
  get(query?: string, token?: string, timeoutMs?: number): Promise<Answer>;
  /** Sends the request and closes the connection after `afterMs`, answered or not. */
  abandon(query: string, afterMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Listens on a free loopback port: with an app, or at a base URL already listening. */
export async function serve(app: http.RequestListener): Promise<Served> {
  const server = http.createServer(app);
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    ...clientOf(`http://127.0.0.1:${port}`),
    close: async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

/** Requests to a service listening at `baseUrl` (the CLI, say). */
export function clientOf(baseUrl: string): Served {
  const url = new URL(baseUrl);
  const port = Number(url.port);
  const options = (query: string, token: string): http.RequestOptions => ({
    host: url.hostname,
    port,
    agent: false,
    path: `${USERS_MEDIA}${query}`,
    headers: { Authorization: `Bearer ${token}` },
  });
  return {
    port,
    get: (query = "", token = STANDARD_TOKENS.admin, timeoutMs = 30_000) =>
      new Promise<Answer>((resolve, reject) => {
        const started = Date.now();
        const request = http.get(options(query, token), (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (body += chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body,
              ms: Date.now() - started,
            }),
          );
          res.on("error", reject);
        });
        request.setTimeout(timeoutMs, () =>
          request.destroy(new Error(`no answer within ${timeoutMs} ms`)),
        );
        request.on("error", reject);
      }),
    abandon: (query, afterMs) =>
      new Promise<void>((resolve) => {
        const request = http.get(options(query, STANDARD_TOKENS.admin), (res) => res.resume());
        const timer = setTimeout(() => request.destroy(), afterMs);
        request.on("error", () => undefined);
        request.on("close", () => {
          clearTimeout(timer);
          resolve();
        });
      }),
    close: async () => undefined,
  };
}

/** Polls `condition` every 25 ms until it holds (true) or `withinMs` passes (false). */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  withinMs: number,
): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((done) => setTimeout(done, 25));
  }
}

interface PoolState {
  numUsed(): number;
  numPendingAcquires(): number;
}

/** Whether no connection of `knex`'s pool is in use or waited for. */
export function poolIdle(knex: Knex): boolean {
  const pool = (knex.client as { pool: PoolState }).pool;
  return pool.numUsed() === 0 && pool.numPendingAcquires() === 0;
}
