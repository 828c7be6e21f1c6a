// The arms of the summary benchmark: databases timed side by side, each holding one driver
// connection for the timed statements, run in alternating blocks so that the machine's noise
// falls on every arm alike, and summed up as time per operation and a median ratio.

import knexFactory, { type Knex } from "knex";
import { openPostgres, type MediaRow } from "../fixtures";

export type Kind = "sqlite" | "postgres";

const began = Date.now();
export const log = (message: string) =>
  process.stderr.write(
    `[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${message}\n`,
  );
export const now = () => process.hrtime.bigint();
export const msSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Runs one statement with `?` placeholders straight on the driver's connection. */
export type Exec = (
  sql: string,
  values: ReadonlyArray<string | number | boolean | null>,
) => Promise<void>;

export interface Arm {
  name: string;
  db: Knex;
  /** The timed statements go here: the driver itself, without knex's per-query work in the way. */
  exec: Exec;
  /** Milliseconds per block, in block order. */
  blocks: number[];
  close(): Promise<void>;
}

interface PgConnection {
  query(text: string, values: ReadonlyArray<unknown>): Promise<unknown>;
}
interface SqliteConnection {
  run(sql: string, values: ReadonlyArray<unknown>, done: (error: Error | null) => void): void;
}

/** An arm on `db`, holding one of its connections for the timed statements. */
export async function makeArm(name: string, db: Knex, kind: Kind): Promise<Arm> {
  const connection: unknown = await db.client.acquireConnection();
  const numbered = new Map<string, string>();
  const exec: Exec =
    kind === "postgres"
      ? async (sql, values) => {
          let text = numbered.get(sql);
          if (text === undefined) {
            let index = 0;
            text = sql.replace(/\?/g, () => `$${++index}`);
            numbered.set(sql, text);
          }
          await (connection as PgConnection).query(text, values);
        }
      : (sql, values) =>
          new Promise((resolve, reject) =>
            (connection as SqliteConnection).run(sql, values, (error) =>
              error ? reject(error) : resolve(),
            ),
          );
  return {
    name,
    db,
    exec,
    blocks: [],
    async close() {
      await db.client.releaseConnection(connection);
      await db.destroy();
    },
  };
}

export function openSqliteArm(file: string, synchronous: "NORMAL" | "FULL"): Knex {
  return knexFactory({
    client: "sqlite3",
    connection: { filename: file },
    useNullAsDefault: true,
    // Two connections: one held for the timed statements, one for everything else.
    pool: {
      min: 1,
      max: 2,
      afterCreate: (
        connection: { exec(sql: string, done: (error: Error | null) => void): void },
        done: (error: Error | null) => void,
      ) =>
        connection.exec(`PRAGMA synchronous = ${synchronous}; PRAGMA busy_timeout = 5000;`, done),
    },
  });
}

export function openPostgresArm(url: string, durable: boolean): Knex {
  // Two connections: one held for the timed statements, one for everything else.
  return openPostgres(url, {
    min: 1,
    max: 2,
    afterCreate: (
      connection: { query(sql: string, done: (error: Error | null) => void): void },
      done: (error: Error | null, connection: unknown) => void,
    ) =>
      connection.query(`SET synchronous_commit = ${durable ? "on" : "off"}`, (error) =>
        done(error, connection),
      ),
  });
}

// Synapse's store_local_media: one row, in its own transaction.
const UPLOAD =
  "INSERT INTO local_media_repository (media_id, media_type, created_ts, upload_name, media_length, user_id, url_cache, authenticated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

export async function upload(arm: Arm, rows: readonly MediaRow[], idPrefix = ""): Promise<number> {
  const start = now();
  for (const row of rows) {
    await arm.exec(UPLOAD, [
      idPrefix + row.media_id,
      row.media_type ?? null,
      row.created_ts,
      row.upload_name ?? null,
      row.media_length,
      row.user_id,
      row.url_cache ?? null,
      false,
    ]);
  }
  return msSince(start);
}

/** Runs `work` on every arm block after block, the arms' order rotating, and records each block's time. */
export async function alternate(
  arms: Arm[],
  blocks: number,
  work: (arm: Arm, block: number) => Promise<number>,
): Promise<void> {
  for (let block = 0; block < blocks; block++) {
    for (let turn = 0; turn < arms.length; turn++) {
      const arm = arms[(block + turn) % arms.length] as Arm;
      arm.blocks.push(await work(arm, block));
    }
    if ((block + 1) % 10 === 0 || block + 1 === blocks) log(`  block ${block + 1}/${blocks}`);
  }
}

export interface ArmResult {
  arm: string;
  operations: number;
  totalMs: number;
  microsPerOperation: number;
  /** Median over blocks of this arm's time over the baseline arm's time in the same block. */
  ratio: number;
}

export function armResults(arms: Arm[], perBlock: number): ArmResult[] {
  const baseline = arms[0] as Arm;
  return arms.map((arm) => {
    const totalMs = arm.blocks.reduce((sum, ms) => sum + ms, 0);
    const operations = arm.blocks.length * perBlock;
    return {
      arm: arm.name,
      operations,
      totalMs: round(totalMs, 0),
      microsPerOperation: round((totalMs * 1000) / operations, 1),
      ratio: round(
        median(arm.blocks.map((ms, index) => ms / (baseline.blocks[index] as number))),
        3,
      ),
    };
  });
}

/** `uploads` in blocks of `block`, alternating between the arms. */
export async function timeUploads(
  arms: Arm[],
  uploads: readonly MediaRow[],
  block: number,
  idPrefix = "",
): Promise<ArmResult[]> {
  const blocks = Math.floor(uploads.length / block);
  await alternate(arms, blocks, (arm, index) =>
    upload(arm, uploads.slice(index * block, (index + 1) * block), idPrefix),
  );
  return armResults(arms, block);
}

/** Closes every arm, whatever happened. */
export const closeAll = (arms: readonly Arm[]) =>
  Promise.all(arms.map((arm) => arm.close().catch(() => undefined)));
