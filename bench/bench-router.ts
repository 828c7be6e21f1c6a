// The router of a benchmark: mounted in a bare express app on a free local port, reading `db`
// with Synapse's token check and no log.

import type { Server } from "node:http";
import express from "express";
import type { Knex } from "knex";
import { createStatisticsRouter, silentLogger, synapseAccessTokenAuth } from "../lib";

/** Listens on 127.0.0.1; `base` is the URL of `prefix` under /_synapse/admin. */
export async function listenRouter(
  db: Knex,
  prefix: string,
): Promise<{ server: Server; base: string }> {
  const app = express();
  app.use(
    "/_synapse/admin",
    createStatisticsRouter({
      knex: db,
      authCheck: synapseAccessTokenAuth(db),
      logger: silentLogger,
    }),
  );
  const server: Server = await new Promise((ready) => {
    const listening = app.listen(0, "127.0.0.1", () => ready(listening));
  });
  const port = (server.address() as { port: number }).port;
  return { server, base: `http://127.0.0.1:${port}/_synapse/admin${prefix}` };
}
