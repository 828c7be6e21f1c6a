// A consumer of the packed package: mounts the router, asks one request, prints the answer.
const http = require("node:http");
const express = require("express");
const knex = require("knex");
const { createStatisticsRouter, synapseAccessTokenAuth } = require("synapse-admin-statistics");
const fixtures = require("synapse-admin-statistics/fixtures");

async function main() {
  const db = knex({
    client: "sqlite3",
    connection: { filename: ":memory:" },
    useNullAsDefault: true,
    pool: { min: 1, max: 1 },
  });
  await fixtures.createSynapseSchema(db);
  await fixtures.insertAccounts(db, fixtures.STANDARD_ACCOUNTS);
  await fixtures.insertMedia(db, [
    { media_id: "x", user_id: "@a:test", media_length: 7, created_ts: 1 },
  ]);
  const app = express();
  app.use(
    "/_synapse/admin",
    createStatisticsRouter({ knex: db, authCheck: synapseAccessTokenAuth(db) }),
  );
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address();
  const body = await new Promise((resolve, reject) => {
    http
      .get(
        {
          host: "127.0.0.1",
          port,
          path: "/_synapse/admin/v1/statistics/users/media",
          headers: { Authorization: `Bearer ${fixtures.STANDARD_TOKENS.admin}` },
        },
        (res) => {
          let text = "";
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
        },
      )
      .on("error", reject);
  });
  server.close();
  await db.destroy();
  console.log(JSON.stringify(body));
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
