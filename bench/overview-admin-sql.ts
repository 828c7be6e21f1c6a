// The plain SQL an admin would paste for the figures each storage endpoint answers: one
// statement per question, as Synapse's useful_sql_for_admins.md writes them where it has them
// (the largest tables), the obvious statement elsewhere. Nothing here is tuned: it is the
// baseline the endpoints are measured against.

import type { Knex } from "knex";

export type BenchDialect = "postgres" | "sqlite";

export interface AdminStatement {
  sql: string;
  bindings?: Knex.RawBinding[];
}

const MEDIA = { local: "local_media_repository", remote: "remote_media_cache" } as const;
const THUMBNAILS = {
  local: "local_media_repository_thumbnails",
  remote: "remote_media_cache_thumbnails",
} as const;

/** The month of `created_ts` as `YYYY-MM`, UTC. */
function monthOf(dialect: BenchDialect): string {
  return dialect === "postgres"
    ? "to_char(to_timestamp(created_ts / 1000) AT TIME ZONE 'UTC', 'YYYY-MM')"
    : "strftime('%Y-%m', created_ts / 1000, 'unixepoch')";
}

/** What an admin asks of one media table for the overview's figures. */
function mediaQuestions(
  dialect: BenchDialect,
  source: "local" | "remote",
  firstMonthTs: number,
): AdminStatement[] {
  const table = MEDIA[source];
  const statements: AdminStatement[] = [
    { sql: `SELECT COUNT(*), SUM(media_length) FROM ${table}` },
    {
      sql: `SELECT COUNT(*), SUM(media_length) FROM ${table} WHERE quarantined_by IS NOT NULL`,
    },
    {
      sql: `SELECT media_type, COUNT(*), SUM(media_length) FROM ${table}
             GROUP BY media_type ORDER BY 3 DESC LIMIT 10`,
    },
    {
      sql: `SELECT ${monthOf(dialect)} AS month, COUNT(*), SUM(media_length) FROM ${table}
             WHERE created_ts >= ? GROUP BY 1 ORDER BY 1`,
      bindings: [firstMonthTs],
    },
    { sql: `SELECT COUNT(*), SUM(thumbnail_length) FROM ${THUMBNAILS[source]}` },
  ];
  if (source === "local") {
    statements.push({
      sql: `SELECT COUNT(*), SUM(media_length) FROM ${table} WHERE url_cache IS NOT NULL`,
    });
  } else {
    statements.push({ sql: `SELECT COUNT(DISTINCT media_origin) FROM ${table}` });
  }
  return statements;
}

/** The database's size and its 20 largest tables. */
function databaseQuestions(dialect: BenchDialect): AdminStatement[] {
  if (dialect === "postgres") {
    return [
      { sql: "SELECT pg_size_pretty(pg_database_size(current_database()))" },
      {
        sql: `SELECT nspname || '.' || relname AS relation,
                     pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size,
                     pg_size_pretty(pg_indexes_size(c.oid)) AS index_size,
                     c.reltuples AS rows
                FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
               WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND c.relkind = 'r'
               ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 20`,
      },
    ];
  }
  return [
    { sql: "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()" },
    { sql: "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 20" },
  ];
}

/** Every figure of the storage overview. */
export function overviewStatements(dialect: BenchDialect, firstMonthTs: number): AdminStatement[] {
  return [
    ...databaseQuestions(dialect),
    ...mediaQuestions(dialect, "local", firstMonthTs),
    ...mediaQuestions(dialect, "remote", firstMonthTs),
  ];
}

/** One page of origins with their figures, their thumbnails' bytes, and how many there are. */
export function originsStatements(
  orderBy: "media_length" | "origin",
  limit: number,
): AdminStatement[] {
  const order = orderBy === "origin" ? "media_origin" : "SUM(media_length) DESC";
  return [
    {
      sql: `SELECT media_origin, COUNT(*), SUM(media_length), MIN(created_ts), MAX(created_ts)
              FROM remote_media_cache WHERE media_origin IS NOT NULL
             GROUP BY media_origin ORDER BY ${order} LIMIT ?`,
      bindings: [limit],
    },
    {
      sql: `SELECT media_origin, SUM(thumbnail_length) FROM remote_media_cache_thumbnails
             GROUP BY media_origin`,
    },
    { sql: "SELECT COUNT(DISTINCT media_origin) FROM remote_media_cache" },
  ];
}

export interface LargestQuestion {
  source: "local" | "remote";
  limit: number;
  userId?: string;
  origin?: string;
  fromTs?: number;
  untilTs?: number;
}

/** The largest media matching a filter, and how many match it. */
export function largestStatements(
  dialect: BenchDialect,
  question: LargestQuestion,
): AdminStatement[] {
  const table = MEDIA[question.source];
  const owner = question.source === "local" ? "user_id" : "media_origin";
  const conditions: string[] = [];
  const bindings: Knex.RawBinding[] = [];
  const ownerValue = question.source === "local" ? question.userId : question.origin;
  if (ownerValue !== undefined) {
    conditions.push(`${owner} = ?`);
    bindings.push(ownerValue);
  }
  if (question.fromTs !== undefined) {
    conditions.push("created_ts >= ?");
    bindings.push(question.fromTs);
  }
  if (question.untilTs !== undefined) {
    conditions.push("created_ts <= ?");
    bindings.push(question.untilTs);
  }
  const where = conditions.length ? `WHERE ${conditions.join(" AND ")}` : "";
  // PostgreSQL sorts NULL first going down: the admin who wants the largest says otherwise.
  const nullsLast = dialect === "postgres" ? " NULLS LAST" : "";
  return [
    {
      sql: `SELECT media_id, ${owner}, media_type, media_length, created_ts, last_access_ts,
                   quarantined_by
              FROM ${table} ${where} ORDER BY media_length DESC${nullsLast} LIMIT ?`,
      bindings: [...bindings, question.limit],
    },
    { sql: `SELECT COUNT(*) FROM ${table} ${where}`, bindings },
  ];
}
