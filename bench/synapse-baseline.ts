// The baseline: Synapse's own two statements for the users' media endpoint, run on the same
// database in one transaction, as Synapse runs them.

import type { Knex } from "knex";

export interface BaselineQuery {
  from: number;
  limit: number;
  fromTs?: number;
  untilTs?: number;
  orderBy: "user_id" | "displayname" | "media_length" | "media_count";
  dir: "f" | "b";
  searchTerm?: string;
}

const ORDER_COLUMNS = {
  user_id: "lmr.user_id",
  displayname: "displayname",
  media_length: "media_length",
  media_count: "media_count",
} as const;

export async function runSynapseStatements(
  db: Knex,
  query: BaselineQuery,
): Promise<{ rows: number; total: number }> {
  const filters: string[] = [];
  const args: Array<string | number> = [];
  if (query.searchTerm) {
    filters.push("(lmr.user_id LIKE ? OR displayname LIKE ?)");
    args.push(`@%${query.searchTerm}%:%`, `%${query.searchTerm}%`);
  }
  if (query.fromTs) {
    filters.push("created_ts >= ?");
    args.push(query.fromTs);
  }
  if (query.untilTs) {
    filters.push("created_ts <= ?");
    args.push(query.untilTs);
  }
  const where = filters.length > 0 ? `WHERE ${filters.join(" AND ")}` : "";
  const base = `
    FROM local_media_repository as lmr
    LEFT JOIN profiles AS p ON lmr.user_id = p.full_user_id
    ${where}
    GROUP BY lmr.user_id, displayname`;
  return db.transaction(async (trx) => {
    const counted = await trx.raw(
      `SELECT COUNT(*) AS count FROM (SELECT lmr.user_id ${base}) AS count_user_ids`,
      args,
    );
    const page = await trx.raw(
      `SELECT lmr.user_id, displayname, COUNT(lmr.user_id) as media_count, SUM(media_length) as media_length
       ${base}
       ORDER BY ${ORDER_COLUMNS[query.orderBy]} ${query.dir === "b" ? "DESC" : "ASC"}
       LIMIT ? OFFSET ?`,
      [...args, query.limit, query.from],
    );
    const rows = Array.isArray(page) ? page.length : (page as { rows: unknown[] }).rows.length;
    const countRow = Array.isArray(counted) ? counted[0] : (counted as { rows: unknown[] }).rows[0];
    return { rows, total: Number((countRow as { count: number | string }).count) };
  });
}
