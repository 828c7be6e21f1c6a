// The SQL behind GET /statistics/users/media, for both dialects: a few statement shapes, each
// chosen for the request shapes where it measured fastest, all giving the same answer. The
// dialect differences sit in `dialectSql` below.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { isTransaction, knexRunner, toInteger, type SqlValue } from "../sql";
import { openRowStream } from "../sql-stream";
import type { UserMediaUsage, UsersMediaOrder } from "../types";
import type { MediaSchema } from "./media-schema";

export interface UsersMediaFilter {
  /** Offset into the sorted list. */
  from: number;
  limit: number;
  /** Lower bound on `created_ts`, inclusive; 0 means none (as in Synapse). */
  fromTs: number;
  /** Upper bound on `created_ts`, inclusive. */
  untilTs: number | undefined;
  orderBy: UsersMediaOrder;
  direction: "f" | "b";
  /** Case-insensitive (ASCII) literal substring of the localpart or the displayname. */
  searchTerm: string | undefined;
}

export interface UsersMediaPage {
  /** The page's users: whole, or in batches read as they are consumed (see PageReading). */
  users: UserMediaUsage[] | AsyncIterable<readonly UserMediaUsage[]>;
  total: number;
}

/** How a page's rows are read. */
export interface PageReading {
  /**
   * Read a page of more than WHOLE_PAGE_MAX_ROWS users in batches as it is consumed, rather
   * than whole. The page's `db` must then be a transaction that stays open until the users
   * are read; once `signal` aborts, nothing more is read.
   */
  stream?: { signal: AbortSignal };
}

/**
 * Pages up to this size are read whole: a few hundred KB at most, in one round trip. Larger
 * ones (Synapse sets no bound on `limit`) are read as they are written.
 */
export const WHOLE_PAGE_MAX_ROWS = 1000;

/** Whether the request bounds `created_ts` (from_ts 0 means no lower bound, as in Synapse). */
export const hasTimeWindow = (filter: UsersMediaFilter): boolean =>
  filter.fromTs > 0 || filter.untilTs !== undefined;

interface DialectSql {
  /** The localpart of a full user ID `@local:server`: after the sigil, up to the first colon. */
  localpart(column: string): string;
  /** Makes lower() fold ASCII letters only, whatever the database's locale. */
  asciiFold: string;
  /** A query listing user IDs bound as one parameter. */
  boundUserList: string;
  /** Binds a list of user IDs as that one parameter. */
  bindList(values: string[]): string | string[];
  /**
   * (user_id, media_count, media_length) for the users that `users` lists, reading only their
   * media through users_have_local_media, with `conditions` on the media rows.
   */
  aggregateForUsers(users: string, conditions: string[]): string;
  /**
   * Added after the media table in a full aggregate. SQLite would otherwise walk
   * users_have_local_media in order and fetch every row by rowid: measured 6.5x slower at a
   * million rows than scanning the table. Left out when a covering index makes the walk cheap.
   */
  fullScanHint(schema: MediaSchema): string;
  /**
   * Find the rows inside a time window first (by rowid, SQLite only), rather than filter the
   * rows as they are aggregated.
   */
  windowRowsFirst(schema: MediaSchema): boolean;
}

const dialectSql: Record<Dialect, DialectSql> = {
  postgres: {
    localpart: (column) => `split_part(substr(${column}, 2), ':', 1)`,
    asciiFold: ' COLLATE "C"',
    boundUserList: "SELECT unnest(?::text[])",
    bindList: (values) => values,
    // A lateral subquery per user: PostgreSQL cannot estimate how few users a list holds and,
    // given `IN (...)`, measured a hash join over the whole table, 40x slower.
    aggregateForUsers: (users, conditions) =>
      `SELECT listed.user_id, agg.media_count, agg.media_length
         FROM (${users}) AS listed(user_id)
        CROSS JOIN LATERAL (
          SELECT COUNT(*) AS media_count, COALESCE(SUM(m.media_length), 0) AS media_length
            FROM local_media_repository AS m
           WHERE ${["m.user_id = listed.user_id", ...conditions].join(" AND ")}
        ) AS agg
        WHERE agg.media_count > 0`,
    fullScanHint: () => "",
    // PostgreSQL's parallel scan is as fast, and a window index, if any, serves the filter.
    windowRowsFirst: () => false,
  },
  // SQLite has no split_part, arrays or ANY: the same cut spelled with instr, and the list
  // as a JSON array. Its lower() folds ASCII only already.
  sqlite: {
    localpart: (column) =>
      `substr(substr(${column}, 2), 1, CASE WHEN instr(substr(${column}, 2), ':') > 0 ` +
      `THEN instr(substr(${column}, 2), ':') - 1 ELSE length(${column}) END)`,
    asciiFold: "",
    boundUserList: "SELECT value FROM json_each(?)",
    bindList: (values) => JSON.stringify(values),
    // SQLite has no LATERAL; it looks each listed user up in the index for `IN (...)`.
    aggregateForUsers: (users, conditions) =>
      `SELECT m.user_id, COUNT(*) AS media_count, COALESCE(SUM(m.media_length), 0) AS media_length
         FROM local_media_repository AS m
        WHERE ${[`m.user_id IN (${users})`, ...conditions].join(" AND ")}
        GROUP BY m.user_id`,
    fullScanHint: (schema) => (schema.coveringIndex ? "" : " NOT INDEXED"),
    // The rows inside a window are found in users_have_local_media (user_id, created_ts)
    // alone, then read in rowid order: at a million rows about 1.2x faster than a scan and
    // 1.6x faster than reading them in index order. A covering index needs no rows at all.
    windowRowsFirst: (schema) => !schema.coveringIndex,
  },
};

// Only ASCII letters fold, on both backends (see asciiFold).
const asciiLower = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

// `!` rather than a backslash: its meaning does not depend on standard_conforming_strings.
export const LIKE_ESCAPE = "!";
export const literalLikePattern = (term: string): string =>
  `%${asciiLower(term).replace(/[!%_]/g, (c) => LIKE_ESCAPE + c)}%`;

type Binding = SqlValue;

/** A statement's text and its bindings, bound in the order their `?` appear in the text. */
class Statement {
  text = "";
  readonly bindings: Binding[] = [];
  bind(...values: Binding[]): this {
    this.bindings.push(...values);
    return this;
  }
}

interface PageShape {
  /** CTEs before `per_user`, each followed by a comma; must start with WITH when present. */
  preamble?: string;
  /** The query giving (user_id, media_count, media_length) per user. */
  perUser: string;
  /** What the total counts the rows of. */
  counted: string;
  /** Compute per_user once (it is read twice); a summary table is better left to its indexes. */
  materialize: boolean;
  /** Apply the page's LIMIT/OFFSET here; false when `perUser` holds only the page already. */
  paged: boolean;
}

/** Builds and runs the statements of one request; the store chooses which. */
export class UsersMediaQuery {
  private readonly sql: DialectSql;

  /** The page is read as it is consumed (see PageReading). */
  private readonly streamed: AbortSignal | undefined;
  /**
   * Each row's user comes as one JSON array text (SQLite, streamed): node-sqlite3 keeps every
   * row of a statement natively before handing any over, and one text column per row costs it
   * a fraction of four (measured on 300,000 users, five pages in a row: peak RSS 318 MB
   * against 455 MB).
   */
  private readonly packed: boolean;

  constructor(
    private readonly dialect: Dialect,
    private readonly schema: MediaSchema,
    private readonly filter: UsersMediaFilter,
    reading: PageReading = {},
  ) {
    this.sql = dialectSql[dialect];
    this.streamed = filter.limit > WHOLE_PAGE_MAX_ROWS ? reading.stream?.signal : undefined;
    this.packed = this.streamed !== undefined && dialect === "sqlite";
  }

  /** Runs a page statement: its first row carries the total, even when the page is empty. */
  async run(db: Knex, statement: Statement): Promise<UsersMediaPage> {
    if (this.streamed !== undefined) {
      if (!isTransaction(db)) throw new TypeError("a streamed page needs a transaction to read in");
      const stream = await openRowStream<PageRow | PackedPageRow>(
        db,
        this.dialect,
        statement.text,
        statement.bindings,
        this.streamed,
      );
      return { users: usagesOf(stream.batches), total: toInteger(stream.firstRow?.total) };
    }
    const rows = await this.rows<PageRow>(db, statement);
    const users: UserMediaUsage[] = [];
    for (const row of rows) {
      const usage = usageOf(row);
      if (usage !== undefined) users.push(usage);
    }
    return { users, total: toInteger(rows[0]?.total) };
  }

  /** The rows of one of this request's statements. */
  rows<Row>(db: Knex, statement: Statement): Promise<Row[]> {
    return knexRunner(db, this.dialect).rows<Row>(statement.text, statement.bindings);
  }

  /**
   * The general shape: media aggregated per user first, with every filter applied below the
   * aggregate (search either per row, or as the list of matching users), so only one row per
   * user is joined to `profiles` and sorted.
   */
  aggregateStatement(search: "search-per-row" | string[]): Statement {
    const statement = new Statement();
    if (Array.isArray(search)) {
      // Bound in text order: the list comes before the window conditions.
      statement.bind(this.sql.bindList(search));
      const window = this.windowConditions(statement, "m");
      return this.pageStatement(statement, {
        perUser: this.sql.aggregateForUsers(this.sql.boundUserList, window),
        counted: "per_user",
        materialize: true,
        paged: true,
      });
    }
    const rowsFirst = this.windowed() && this.sql.windowRowsFirst(this.schema);
    const window = this.windowConditions(statement, rowsFirst ? "w" : "m");
    const where = ["m.user_id IS NOT NULL"];
    if (rowsFirst) {
      where.push(
        `m.rowid IN (SELECT w.rowid FROM local_media_repository AS w WHERE ${["w.user_id IS NOT NULL", ...window].join(" AND ")})`,
      );
    } else {
      where.push(...window);
    }
    if (this.filter.searchTerm !== undefined)
      where.push(this.searchCondition(statement, "m.user_id"));
    const hint = this.windowed() ? "" : this.sql.fullScanHint(this.schema);
    return this.pageStatement(statement, {
      perUser: `SELECT m.user_id, COUNT(*) AS media_count, COALESCE(SUM(m.media_length), 0) AS media_length
                  FROM local_media_repository AS m${hint}
                 WHERE ${where.join(" AND ")}
                 GROUP BY m.user_id`,
      counted: "per_user",
      materialize: true,
      paged: true,
    });
  }

  /**
   * The first pages by user ID, unfiltered: the distinct uploaders are enumerated with one
   * index descent each (a skip scan of users_have_local_media), which gives the total without
   * aggregating the table, and only the page's users have their media aggregated.
   */
  pageByUploaderStatement(): Statement {
    const statement = new Statement().bind(this.filter.limit, this.filter.from);
    return this.pageStatement(statement, {
      preamble: `${this.uploadersCte()},
        page_users AS (
          SELECT user_id FROM uploaders WHERE user_id IS NOT NULL
           ORDER BY user_id${this.schema.byteOrder} ${this.direction()} LIMIT ? OFFSET ?
        ),`,
      perUser: this.sql.aggregateForUsers("SELECT user_id FROM page_users", []),
      counted: "uploaders WHERE user_id IS NOT NULL",
      materialize: false,
      paged: false,
    });
  }

  /** The users matching the search, from the skip scan of uploaders; at most `cap`. */
  candidatesStatement(cap: number): Statement {
    const statement = new Statement();
    const condition = this.searchCondition(statement, "u.user_id");
    statement.text = `${this.uploadersCte()}
      SELECT u.user_id FROM uploaders AS u
       WHERE u.user_id IS NOT NULL AND ${condition}
       LIMIT ?`;
    return statement.bind(cap);
  }

  /** From the per-user summary table, whose indexes serve each sort directly. */
  summaryStatement(table: string): Statement {
    const statement = new Statement();
    const where =
      this.filter.searchTerm === undefined
        ? ""
        : `WHERE ${this.searchCondition(statement, "s.user_id")}`;
    return this.pageStatement(statement, {
      perUser: `SELECT s.user_id, s.media_count, s.media_length FROM ${table} AS s ${where}`,
      counted: "per_user",
      materialize: false,
      paged: true,
    });
  }

  /**
   * Joins per-user rows to profiles, pages them, and carries the total along (LEFT JOIN ...
   * ON 1 = 1) so that a page past the end still reports it, in one round trip and snapshot.
   */
  private pageStatement(statement: Statement, shape: PageShape): Statement {
    const profileKey = this.schema.profileKey === "full_user_id" ? "full_user_id" : "user_id";
    const userKey = (alias: string): string =>
      this.schema.profileKey === "full_user_id"
        ? `${alias}.user_id`
        : this.sql.localpart(`${alias}.user_id`);
    const limit = shape.paged ? " LIMIT ? OFFSET ?" : "";
    if (shape.paged) statement.bind(this.filter.limit, this.filter.from);
    const perUser = `${shape.preamble ?? "WITH"}
      per_user AS ${shape.materialize ? "MATERIALIZED" : "NOT MATERIALIZED"} (${shape.perUser})`;
    const counted = `(SELECT COUNT(*) AS total FROM ${shape.counted}) AS counted`;
    statement.text =
      this.filter.orderBy === "displayname"
        ? // Sorting by displayname needs every user's profile before the page is cut.
          `${perUser},
          named AS (
            SELECT u.user_id, p.displayname, u.media_count, u.media_length
              FROM per_user AS u
              LEFT JOIN profiles AS p ON p.${profileKey} = ${userKey("u")}
          )
          SELECT counted.total, ${this.userColumns("page", "page")}
            FROM ${counted}
            LEFT JOIN (SELECT * FROM named ORDER BY ${this.orderBy("named")}${limit}) AS page ON 1 = 1
           ORDER BY ${this.orderBy("page")}`
        : // Any other order cuts the page first and looks up only its users' profiles.
          `${perUser}
          SELECT counted.total, ${this.userColumns("page", "p")}
            FROM ${counted}
            LEFT JOIN (SELECT * FROM per_user ORDER BY ${this.orderBy("per_user")}${limit}) AS page ON 1 = 1
            LEFT JOIN profiles AS p ON p.${profileKey} = ${userKey("page")}
           ORDER BY ${this.orderBy("page")}`;
    return statement;
  }

  /** The page's user columns, or (packed) one JSON array of them. */
  private userColumns(page: string, profile: string): string {
    const columns = `${page}.user_id, ${profile}.displayname, ${page}.media_count, ${page}.media_length`;
    return this.packed ? `json_array(${columns}) AS packed` : columns;
  }

  /** Every distinct uploader, one index descent each (NULL ends the recursion). */
  private uploadersCte(): string {
    return `WITH RECURSIVE uploaders(user_id) AS (
        SELECT MIN(user_id) FROM local_media_repository
        UNION ALL
        SELECT (SELECT MIN(m.user_id) FROM local_media_repository AS m WHERE m.user_id > up.user_id)
          FROM uploaders AS up WHERE up.user_id IS NOT NULL
      )`;
  }

  private windowed(): boolean {
    return hasTimeWindow(this.filter);
  }

  private windowConditions(statement: Statement, alias: string): string[] {
    const conditions: string[] = [];
    if (this.filter.fromTs > 0) {
      conditions.push(`${alias}.created_ts >= ?`);
      statement.bind(this.filter.fromTs);
    }
    if (this.filter.untilTs !== undefined) {
      conditions.push(`${alias}.created_ts <= ?`);
      statement.bind(this.filter.untilTs);
    }
    return conditions;
  }

  /** The user's localpart or displayname contains the term (ASCII case-folded, literally). */
  private searchCondition(statement: Statement, userIdColumn: string): string {
    const pattern = literalLikePattern(this.filter.searchTerm ?? "");
    const fold = this.sql.asciiFold;
    const profileKey = this.schema.profileKey === "full_user_id" ? "full_user_id" : "user_id";
    const userKey =
      this.schema.profileKey === "full_user_id" ? userIdColumn : this.sql.localpart(userIdColumn);
    statement.bind(pattern, pattern);
    return (
      `(lower(${this.sql.localpart(userIdColumn)}${fold}) LIKE ? ESCAPE '${LIKE_ESCAPE}'` +
      // A membership test, which PostgreSQL runs once as a hashed subplan, not per row.
      ` OR ${userKey} IN (SELECT sp.${profileKey} FROM profiles AS sp` +
      ` WHERE lower(sp.displayname${fold}) LIKE ? ESCAPE '${LIKE_ESCAPE}'))`
    );
  }

  private direction(): "ASC" | "DESC" {
    return this.filter.direction === "b" ? "DESC" : "ASC";
  }

  private orderBy(alias: string): string {
    const dir = this.direction();
    const collate = this.schema.byteOrder;
    const tieBreak = `${alias}.user_id${collate} ${dir}`;
    switch (this.filter.orderBy) {
      case "user_id":
        return tieBreak;
      case "displayname":
        // Users without a displayname come last forwards and first backwards, on both
        // backends (SQLite's default would put NULLs first going forwards).
        return `${alias}.displayname${collate} ${dir} ${dir === "DESC" ? "NULLS FIRST" : "NULLS LAST"}, ${tieBreak}`;
      case "media_length":
        return `${alias}.media_length ${dir}, ${tieBreak}`;
      case "media_count":
        return `${alias}.media_count ${dir}, ${tieBreak}`;
    }
  }
}

interface PageRow {
  total: number | string | bigint;
  user_id: string | null;
  displayname: string | null;
  media_count: number | string | bigint | null;
  media_length: number | string | bigint | null;
}

/**
 * Runs `work` in one read-only transaction, so that its statements see one snapshot. Given a
 * transaction already, runs in it: its snapshot is the caller's to choose, and PostgreSQL
 * takes no isolation level once a transaction has begun.
 */
export async function inSnapshot<T>(
  db: Knex,
  dialect: Dialect,
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  if (db.isTransaction) return work(db as Knex.Transaction);
  return db.transaction(async (trx) => {
    if (dialect === "postgres")
      await trx.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    return work(trx);
  });
}

/** A page row whose user columns come as one JSON array text (see UsersMediaQuery.packed). */
interface PackedPageRow {
  total: number | string | bigint;
  packed: string;
}

type PackedColumns = [
  PageRow["user_id"],
  PageRow["displayname"],
  PageRow["media_count"],
  PageRow["media_length"],
];

/**
 * A page row as the answer has it, counts as JSON integers whatever the driver returns; none
 * for the one row of a page past the end, which carries only the total (user_id NULL).
 */
function usageOf(row: PageRow | PackedPageRow): UserMediaUsage | undefined {
  let columns: PackedColumns;
  if ("packed" in row) columns = JSON.parse(row.packed) as PackedColumns;
  else columns = [row.user_id, row.displayname, row.media_count, row.media_length];
  const [userId, displayname, mediaCount, mediaLength] = columns;
  if (userId === null) return undefined;
  return {
    user_id: userId,
    displayname,
    media_count: toInteger(mediaCount),
    media_length: toInteger(mediaLength),
  };
}

async function* usagesOf(
  batches: AsyncIterable<readonly (PageRow | PackedPageRow)[]>,
): AsyncIterable<readonly UserMediaUsage[]> {
  for await (const rows of batches) {
    const users: UserMediaUsage[] = [];
    for (const row of rows) {
      const usage = usageOf(row);
      if (usage !== undefined) users.push(usage);
    }
    yield users;
  }
}
