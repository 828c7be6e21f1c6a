// A TCP proxy in front of a server, which a test can cut and restore: the database "goes away"
// for the service under test as it would in a network partition, then comes back.

import { createServer, connect, type Server, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  /** Stops listening and drops every connection: new connections are refused. */
  cut(): Promise<void>;
  /** Listens again on the same port (nothing to do if it is listening). */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    if (server !== undefined) return;
    server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once("error", reject);
      listening.listen(port, "127.0.0.1", resolve);
    });
    const address = listening.address();
    if (typeof address === "object" && address !== null) port = address.port;
  };
  const cut = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  await listen();
  return {
    get port() {
      return port;
    },
    cut,
    restore: listen,
    close: cut,
  };
}

/** A chunk from a PostgreSQL client that starts a statement: 'Q' (simple query) or 'P' (parse). */
export const isStatement = (chunk: Buffer): boolean => chunk[0] === 0x51 || chunk[0] === 0x50;

/**
 * A proxy to the PostgreSQL server of `target` that closes a session (both sides) when its
 * client sends a chunk `closeAt` picks, at most `times` times; everything else passes. Its `url`
 * is `target` through the proxy.
 */
export async function startClosingProxy(
  target: URL,
  closeAt: (chunk: Buffer) => boolean,
  times = Number.POSITIVE_INFINITY,
): Promise<{ url: string; closed(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let closed = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.once("close", () => sockets.delete(socket));
    }
    client.on("data", (chunk: Buffer) => {
      if (closed < times && closeAt(chunk)) {
        closed += 1;
        client.destroy();
        upstream.destroy();
      } else upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    closed: () => closed,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    },
  };
}
