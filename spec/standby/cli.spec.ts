// Issue 10, hot standby, as an operator meets it: `serve` says at start whether its database is
// a hot standby (and warns when hot_standby_feedback is off), and `summary install` and
// `summary uninstall` refuse a standby in one line that says to run them on the primary, while
// `summary verify`, which only reads, runs there.

import { insertMediaDataset, randomMediaDataset, STANDARD_TOKENS } from "../../fixtures";
import { runCliToEnd, startCli } from "../helpers/cli";
import { USERS_MEDIA } from "../helpers/paths";
import { useSynapseReplicas } from "../helpers/standby";

const DATASET = randomMediaDataset({ seed: 1030, users: 20 });
// The standby keeps PostgreSQL's defaults: hot_standby_feedback off, a 30 s streaming delay.
const replicas = useSynapseReplicas((db) => insertMediaDataset(db, DATASET));

test("serve on a standby logs at start that its database is a hot standby, and warns that hot_standby_feedback is off", async () => {
  const cli = await startCli([
    "serve",
    "--database",
    replicas.current.standbyUrl,
    "--listen",
    "127.0.0.1:0",
  ]);
  try {
    const res = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
      headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` },
    });
    expect(res.status).toBe(200);
    const recovery = cli.logs().filter((line) => "standby" in line);
    expect(recovery).toEqual([
      expect.objectContaining({
        level: 40, // pino's warn
        standby: true,
        hot_standby_feedback: "off",
        max_standby_streaming_delay: "30s",
        msg: expect.stringMatching(/hot standby .*turn hot_standby_feedback on/),
      }),
    ]);
  } finally {
    await cli.stop();
  }
});

test("serve on the primary logs that its database is not in recovery", async () => {
  const cli = await startCli([
    "serve",
    "--database",
    replicas.current.primaryUrl,
    "--listen",
    "127.0.0.1:0",
  ]);
  try {
    expect(cli.logs().filter((line) => "standby" in line)).toEqual([
      expect.objectContaining({ level: 30, standby: false }), // pino's info,
    ]);
  } finally {
    await cli.stop();
  }
});

test("summary install and uninstall refuse a standby in one line that says to run them on the primary; verify runs there", async () => {
  const { standbyUrl, primaryUrl } = replicas.current;
  for (const action of ["install", "uninstall"]) {
    const refused = runCliToEnd(["summary", action, "--database", standbyUrl]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toContain(
      `is a hot standby (read-only replica): run \`summary ${action}\` on the primary`,
    );
  }

  expect(runCliToEnd(["summary", "install", "--database", primaryUrl]).status).toBe(0);
  try {
    await replicas.current.pair.caughtUp();
    const verified = runCliToEnd(["summary", "verify", "--database", standbyUrl]);
    expect(verified.stdout).toContain("The per-user media summary matches local_media_repository.");
    expect(verified.status).toBe(0);
  } finally {
    expect(runCliToEnd(["summary", "uninstall", "--database", primaryUrl]).status).toBe(0);
  }
});
