// Statements that change many media of one user at once, as an import or a purge makes them
// (issue 11, item 8): one INSERT ... SELECT of `rows` media for one user, one UPDATE moving them
// all to another user, one DELETE of them, each timed on every arm, round after round with the
// arms' order rotating; the ratio is the median over rounds against the first arm's time.

import { log, median, msSince, now, round, type Arm, type Kind } from "./summary-bench-arms";

export type BulkStatement = "INSERT ... SELECT" | "UPDATE moving them" | "DELETE";

export interface BulkResult {
  database: Kind;
  rows: number;
  statement: BulkStatement;
  /** Per arm: the median time over rounds, and the median ratio to the first arm's time. */
  arms: Array<{ arm: string; ms: number; ratio: number }>;
}

// The rows are made by the database itself, so the time is the statement's, not the client's.
const INSERT: Record<Kind, string> = {
  postgres: `INSERT INTO local_media_repository (media_id, media_type, media_length, created_ts, upload_name, user_id)
             SELECT CAST(? AS TEXT) || g, 'image/jpeg', 1000 + g % 500000, 1700000000000 + g, 'file' || g, ?
               FROM generate_series(1, ?) AS g`,
  sqlite: `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
           INSERT INTO local_media_repository (media_id, media_type, media_length, created_ts, upload_name, user_id)
           SELECT CAST(? AS TEXT) || i, 'image/jpeg', 1000 + i % 500000, 1700000000000 + i, 'file' || i, ?
             FROM g`,
};

async function timed(work: () => Promise<void>): Promise<number> {
  const start = now();
  await work();
  return msSince(start);
}

/**
 * Times the three statements of `rows` media on each arm, `rounds` times. Each round's media
 * belong to a user of their own and are gone again at its end; on PostgreSQL a VACUUM (not
 * timed) then clears their dead rows, so that every round starts alike.
 */
export async function timeBulkStatements(
  arms: readonly Arm[],
  kind: Kind,
  rows: number,
  rounds: number,
): Promise<BulkResult[]> {
  const statements: BulkStatement[] = ["INSERT ... SELECT", "UPDATE moving them", "DELETE"];
  // times[statement][arm][round]
  const times = statements.map(() => arms.map(() => [] as number[]));
  for (let turn = 0; turn < rounds; turn++) {
    for (let offset = 0; offset < arms.length; offset++) {
      const index = (turn + offset) % arms.length;
      const arm = arms[index] as Arm;
      const importer = `@bulk${turn}:bench.example`;
      const heir = `@heir${turn}:bench.example`;
      const prefix = `bulk${turn}-${rows}-`;
      const took = [
        await timed(() =>
          arm.exec(
            INSERT[kind],
            kind === "postgres" ? [prefix, importer, rows] : [rows, prefix, importer],
          ),
        ),
        await timed(() =>
          arm.exec("UPDATE local_media_repository SET user_id = ? WHERE user_id = ?", [
            heir,
            importer,
          ]),
        ),
        await timed(() => arm.exec("DELETE FROM local_media_repository WHERE user_id = ?", [heir])),
      ];
      took.forEach((ms, statement) => times[statement]?.[index]?.push(ms));
      if (kind === "postgres") await arm.exec("VACUUM", []);
      log(
        `  ${rows} rows, round ${turn + 1}/${rounds}, ${arm.name}: ${took.map((ms) => `${ms.toFixed(0)} ms`).join(", ")}`,
      );
    }
  }
  return statements.map((statement, s) => {
    const byArm = times[s] as number[][];
    const baseline = byArm[0] as number[];
    return {
      database: kind,
      rows,
      statement,
      arms: arms.map((arm, a) => {
        const own = byArm[a] as number[];
        return {
          arm: arm.name,
          ms: round(median(own), 1),
          ratio: round(median(own.map((ms, turn) => ms / (baseline[turn] as number))), 2),
        };
      }),
    };
  });
}
