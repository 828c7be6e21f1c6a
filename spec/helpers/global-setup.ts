// Finds the PostgreSQL server the tests use: TEST_PG_URL or DATABASE_URL when set, otherwise an
// embedded one started here (and stopped in global-teardown), so `npm test` needs no server.

import { startEmbeddedPostgres, type EmbeddedPostgresServer } from "../../fixtures/databases";

declare global {
  var __embeddedPostgres: EmbeddedPostgresServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const given = process.env.TEST_PG_URL ?? process.env.DATABASE_URL;
  if (given) {
    process.env.TEST_PG_URL = given;
    return;
  }
  const started = Date.now();
  const server = await startEmbeddedPostgres();
  globalThis.__embeddedPostgres = server;
  process.env.TEST_PG_URL = server.url;
  process.stderr.write(
    `\nembedded PostgreSQL on port ${server.port} ready in ${Date.now() - started} ms\n`,
  );
}
