// Starts and stops an embedded PostgreSQL in a child process (see postgres-server.cjs).

import { spawn } from "node:child_process";
import { resolve } from "node:path";

export interface PostgresProcess {
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server (a fast shutdown: open sessions are ended) and waits for it. */
  stop(): Promise<void>;
}

export function startPostgresProcess(dataDir?: string, port?: number): Promise<PostgresProcess> {
  const child = spawn(
    process.execPath,
    [resolve(__dirname, "postgres-server.cjs"), dataDir ?? "", port ? String(port) : ""],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  return new Promise((ready, fail) => {
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n").find((text) => text.startsWith("{"));
      if (!line) return;
      const info = JSON.parse(line) as { url: string; port: number; dataDir: string };
      ready({
        ...info,
        stop: async () => {
          child.kill("SIGTERM");
          await exited;
        },
      });
    });
    void exited.then(() => fail(new Error(`embedded PostgreSQL process ended: ${stderr}`)));
  });
}
