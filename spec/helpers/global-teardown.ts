// Stops the embedded PostgreSQL of global-setup, if it started one.

export default async function globalTeardown(): Promise<void> {
  await globalThis.__embeddedPostgres?.stop();
  globalThis.__embeddedPostgres = undefined;
}
