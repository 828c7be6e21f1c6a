// The summary on PostgreSQL: a table with an index per sort, and statement-level triggers on
// local_media_repository that keep it exact (statement-triggers.ts), all created in the media table's own schema,
// owned by the media table's owner, and installed in one transaction that holds writers of the
// media table off from before the backfill until the triggers exist.

import type { Knex } from "knex";
import { describeError } from "../logger";
import {
  countSummary,
  planInstall,
  type InstallOutcome,
  type SummaryBackend,
  type SummaryState,
} from "./backend";
import { STORAGE_SOURCE_TABLES } from "./storage-names";
import {
  inspectPostgresStorage,
  postgresStorageDrops,
  postgresStorageStatements,
  sharePostgresStorage,
} from "./storage-postgres";
import type { StorageSummaryState } from "./storage-state";
import { alreadyInstalled, MediaUsageSummaryError, noMediaTable } from "./errors";
import {
  MEDIA_TABLE,
  MEDIA_USAGE_SUMMARY_TABLE,
  POSTGRES_TRIGGERS,
  SUMMARY_INDEXES,
  SUMMARY_PRIMARY_KEY,
  SUMMARY_TRIGGERS,
} from "./names";
import { inPostgresTransaction, knexRunner, type SqlRunner } from "../sql";
import { aggregateRows, statementTriggers, type SummarisedTable } from "./statement-triggers";

/**
 * Per-table autovacuum settings of the summary. Every upload rewrites its uploader's row, and
 * as both counters are indexed that update is never HOT: each leaves a dead row version and a
 * new entry in all three indexes, which only VACUUM reclaims. With these, each autovacuum round
 * (autovacuum_naptime, a server-wide setting) vacuums the table once a thousand rows are dead,
 * whatever its size, and at full speed (it is small). Measured in bench/summary-triggers.ts.
 */
export const SUMMARY_STORAGE_PARAMETERS: Readonly<Record<string, string>> = {
  autovacuum_vacuum_scale_factor: "0",
  autovacuum_vacuum_threshold: "1000",
  autovacuum_vacuum_cost_delay: "0",
};

/**
 * A whole summary whose triggers, every one there and enabled, include some of an earlier
 * version: install brings them to this version. A summary missing any part is stale, and only
 * uninstall then install rebuilds it.
 */
const isUpgradable = (state: SummaryState): boolean =>
  state.table && state.missingTriggers.length === 0 && state.outdatedTriggers.length > 0;

/** How long install and uninstall wait for the media table's lock before giving up. */
const LOCK_TIMEOUT_MS = 10_000;

const RELATIONS = [
  MEDIA_USAGE_SUMMARY_TABLE,
  SUMMARY_PRIMARY_KEY,
  ...Object.values(SUMMARY_INDEXES),
];

interface StateRow {
  /** Schema of local_media_repository, quoted by the server (quote_ident). */
  schema: string;
  /** Its owner, quoted by the server, and as a plain name for messages. */
  owner: string;
  owner_name: string;
  owned: boolean;
  relations: string[];
  /** NULL when there is no summary table. */
  table_readable: boolean | null;
  enabled_triggers: string[];
  triggers: string[];
  functions: string[];
  /** The source of the function each of the summary's triggers calls, by trigger name (NULL: no trigger). */
  trigger_sources: Record<string, string> | null;
}

// One catalogue query, cheap enough for the router to repeat. The summary's objects are looked
// for in local_media_repository's schema, found through the search_path as Synapse finds it.
const STATE_SQL = `
  SELECT quote_ident(n.nspname) AS schema,
         quote_ident(pg_get_userbyid(m.relowner)) AS owner,
         pg_get_userbyid(m.relowner) AS owner_name,
         pg_get_userbyid(m.relowner) = current_user AS owned,
         ARRAY(SELECT r.relname::text FROM pg_class r
                WHERE r.relnamespace = m.relnamespace AND r.relname = ANY(?::text[])) AS relations,
         (SELECT has_table_privilege(r.oid, 'SELECT') FROM pg_class r
           WHERE r.relnamespace = m.relnamespace AND r.relname = ? AND r.relkind = 'r') AS table_readable,
         ARRAY(SELECT t.tgname::text FROM pg_trigger t
                WHERE t.tgrelid = m.oid AND t.tgname = ANY(?::text[]) AND t.tgenabled IN ('O', 'A')) AS enabled_triggers,
         ARRAY(SELECT t.tgname::text FROM pg_trigger t
                WHERE t.tgrelid = m.oid AND t.tgname = ANY(?::text[])) AS triggers,
         ARRAY(SELECT p.proname::text FROM pg_proc p
                WHERE p.pronamespace = m.relnamespace AND p.proname = ANY(?::text[])
                  AND p.pronargs = 0 AND p.prorettype = 'trigger'::regtype) AS functions,
         (SELECT json_object_agg(t.tgname, p.prosrc) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
           WHERE t.tgrelid = m.oid AND t.tgname = ANY(?::text[])) AS trigger_sources
    FROM pg_class m
    JOIN pg_namespace n ON n.oid = m.relnamespace
   WHERE m.oid = to_regclass(?)`;

async function readState(
  run: SqlRunner,
): Promise<{ state: SummaryState; row: StateRow | undefined }> {
  const [row] = await run.rows<StateRow>(STATE_SQL, [
    RELATIONS,
    MEDIA_USAGE_SUMMARY_TABLE,
    POSTGRES_TRIGGERS,
    POSTGRES_TRIGGERS,
    POSTGRES_TRIGGERS,
    POSTGRES_TRIGGERS,
    MEDIA_TABLE,
  ]);
  if (row === undefined) {
    return {
      row,
      state: {
        mediaTable: false,
        table: false,
        readable: false,
        missingTriggers: [...POSTGRES_TRIGGERS],
        outdatedTriggers: [],
        objects: [],
        names: { summary: MEDIA_USAGE_SUMMARY_TABLE, media: MEDIA_TABLE },
        storage: NO_STORAGE,
      },
    };
  }
  return {
    row,
    state: {
      mediaTable: true,
      table: row.table_readable !== null,
      readable: row.table_readable === true,
      missingTriggers: POSTGRES_TRIGGERS.filter((name) => !row.enabled_triggers.includes(name)),
      outdatedTriggers: outdatedTriggers(row),
      // A function and its trigger share a name: list each name once.
      objects: [...new Set([...row.relations, ...row.triggers, ...row.functions])].sort(),
      names: qualifiedNames(row.schema),
      storage: await inspectPostgresStorage(run, row.schema),
    },
  };
}

const NO_STORAGE: StorageSummaryState = {
  prefix: "",
  sourcesPresent: false,
  objects: [],
  tables: false,
  readable: false,
  missing: [],
  missingTriggers: [],
  dropTriggers: [],
};

/** Takes `mode` on the storage part's media tables other than local_media_repository. */
async function lockStorageTables(run: SqlRunner, schema: string, mode: string): Promise<void> {
  for (const table of STORAGE_SOURCE_TABLES) {
    if (table !== MEDIA_TABLE) await lockMediaTable(run, `${schema}.${table}`, mode);
  }
}

/** The summary's triggers that call a function other than this version's. */
function outdatedTriggers(row: StateRow): string[] {
  const sources = row.trigger_sources ?? {};
  return statementTriggers(mediaUsage(row.schema))
    .filter(({ name, source }) => name in sources && sources[name] !== source)
    .map(({ name }) => name)
    .sort();
}

function qualifiedNames(schema: string): { summary: string; media: string } {
  return { summary: `${schema}.${MEDIA_USAGE_SUMMARY_TABLE}`, media: `${schema}.${MEDIA_TABLE}` };
}

/** The summary as the trigger generator sees it, for a media table in `schema`. */
function mediaUsage(schema: string): SummarisedTable {
  const { summary, media } = qualifiedNames(schema);
  return {
    source: media,
    summary,
    schema,
    key: "user_id",
    keyType: "TEXT",
    count: "media_count",
    sums: [{ column: "media_length", of: "media_length" }],
    triggers: SUMMARY_TRIGGERS,
  };
}

/** The statements that create the summary, in order, for a media table in `schema`. */
function creationStatements(schema: string): string[] {
  const table = mediaUsage(schema);
  const storage = Object.entries(SUMMARY_STORAGE_PARAMETERS)
    .map(([name, value]) => `${name} = ${value}`)
    .join(", ");
  const statements = [
    // COLLATE "C": user IDs compare by bytes, so the byte-order sorts the endpoint promises can
    // walk these indexes whatever the database's own collation is.
    `CREATE TABLE ${table.summary} (
       user_id TEXT COLLATE "C" NOT NULL,
       media_count BIGINT NOT NULL,
       media_length BIGINT NOT NULL,
       CONSTRAINT ${SUMMARY_PRIMARY_KEY} PRIMARY KEY (user_id)
     ) WITH (${storage})`,
    // The backfill comes before the sort indexes: building them once beats growing them row by row.
    `INSERT INTO ${table.summary} (user_id, media_count, media_length)
     ${aggregateRows(table, table.source)}`,
    `CREATE INDEX ${SUMMARY_INDEXES.media_length} ON ${table.summary} (media_length, user_id COLLATE "C")`,
    `CREATE INDEX ${SUMMARY_INDEXES.media_count} ON ${table.summary} (media_count, user_id COLLATE "C")`,
  ];
  for (const trigger of statementTriggers(table)) {
    statements.push(trigger.createFunction(false), trigger.createTrigger);
  }
  // Fresh statistics, so the first queries on the summary are planned well.
  statements.push(`ANALYZE ${table.summary}`);
  return statements;
}

/**
 * Replaces the triggers an earlier version installed (the row-level ones of 0.1) with this
 * version's, in place: the summary's rows stay, since those triggers kept them exact. Runs
 * under the ACCESS EXCLUSIVE lock DROP TRIGGER needs, so no change to the media table falls
 * between the old triggers and the new. Answers the names replaced.
 */
async function upgradeTriggers(run: SqlRunner, state: StateRow, outdated: string[]) {
  const { media } = qualifiedNames(state.schema);
  const replaced = statementTriggers(mediaUsage(state.schema)).filter((trigger) =>
    outdated.includes(trigger.name),
  );
  for (const trigger of replaced) {
    await run.rows(`DROP TRIGGER ${trigger.name} ON ${media}`);
    // OR REPLACE keeps the function's owner (the media table's) and its privileges.
    await run.rows(trigger.createFunction(true));
    await run.rows(trigger.createTrigger);
  }
  return replaced.map((trigger) => trigger.name).sort();
}

/** Sets this transaction's lock timeout and takes `mode` on the media table, or says it is busy. */
async function lockMediaTable(run: SqlRunner, media: string, mode: string): Promise<void> {
  await run.rows("SELECT set_config('lock_timeout', ?, true)", [`${LOCK_TIMEOUT_MS}ms`]);
  try {
    await run.rows(`LOCK TABLE ${media} IN ${mode} MODE`);
  } catch (error) {
    if ((error as { code?: unknown }).code === "55P03") {
      throw new MediaUsageSummaryError(
        "media-table-busy",
        `${MEDIA_TABLE} stayed locked by other transactions for ${LOCK_TIMEOUT_MS / 1000} s; ` +
          "try again once they are done",
      );
    }
    throw error;
  }
}

/**
 * The summary must belong to the role that owns the media table, which is the role Synapse
 * writes with: its triggers write the summary with the privileges of whoever changes media.
 * Roles granted access to the media table get the same on the summary: readers may read it,
 * writers (whose changes fire the triggers) may write it.
 */
async function shareWithMediaTableRoles(
  run: SqlRunner,
  schema: string,
  state: StateRow,
): Promise<void> {
  const { summary, media } = qualifiedNames(schema);
  if (!state.owned) {
    await run.rows(`ALTER TABLE ${summary} OWNER TO ${state.owner}`);
    for (const name of POSTGRES_TRIGGERS) {
      await run.rows(`ALTER FUNCTION ${schema}.${name}() OWNER TO ${state.owner}`);
    }
  }
  const grantees = await run.rows<{ grantee: string; writes: boolean; truncates: boolean }>(
    `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee,
            bool_or(a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE')) AS writes,
            bool_or(a.privilege_type = 'TRUNCATE') AS truncates
       FROM pg_class m CROSS JOIN LATERAL aclexplode(m.relacl) AS a
      WHERE m.oid = to_regclass(?) AND a.grantee <> m.relowner
        AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
      GROUP BY a.grantee`,
    [media],
  );
  for (const { grantee, writes, truncates } of grantees) {
    // What the triggers do on their behalf: the upsert and the decrement read, insert, update
    // and delete summary rows; the TRUNCATE trigger truncates the summary.
    const privileges = [
      "SELECT",
      ...(writes ? ["INSERT", "UPDATE", "DELETE"] : []),
      ...(truncates ? ["TRUNCATE"] : []),
    ];
    await run.rows(`GRANT ${privileges.join(", ")} ON ${summary} TO ${grantee}`);
  }
}

/**
 * A privilege error of install or uninstall as a refusal that says who may do it: the owner of
 * the media table (Synapse's role), or a superuser. The database's own line says what failed.
 */
async function explainPrivilegeErrors<T>(action: string, db: Knex, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "42501") throw error;
    const { row } = await readState(knexRunner(db, "postgres")).catch(() => ({ row: undefined }));
    const owner = row === undefined ? "" : ` (${row.owner_name})`;
    throw new MediaUsageSummaryError(
      "not-permitted",
      `${String(describeError(error).message)}: ${action} as the owner of ${MEDIA_TABLE}${owner} or as a superuser`,
    );
  }
}

export const postgresSummary: SummaryBackend = {
  async inspect(db: Knex): Promise<SummaryState> {
    return (await readState(knexRunner(db, "postgres"))).state;
  },

  install(db: Knex): Promise<InstallOutcome> {
    return explainPrivilegeErrors(
      "install",
      db,
      inPostgresTransaction(db, async (run) => {
        // READ COMMITTED whatever the role's default (Synapse's is REPEATABLE READ): the
        // backfill must read a snapshot taken after the lock is granted, and only a snapshot per
        // statement guarantees that.
        await run.rows("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
        const located = await readState(run);
        if (located.row === undefined) throw noMediaTable();
        // SHARE ROW EXCLUSIVE (what CREATE TRIGGER takes anyway) waits for every open write to
        // the media table to finish and blocks new ones until COMMIT, while reads go on: no
        // upload can land between the backfill and the triggers, nor be counted twice. An
        // upgrade drops triggers, which takes ACCESS EXCLUSIVE (reads wait too, for milliseconds).
        const media = located.state.names.media;
        const upgrading = isUpgradable(located.state);
        await lockMediaTable(run, media, upgrading ? "ACCESS EXCLUSIVE" : "SHARE ROW EXCLUSIVE");
        const { row, state } = await readState(run);
        if (row === undefined) throw noMediaTable();
        const plan = planInstall(state, isUpgradable(state));
        if (plan.user === "refuse" || plan.storage === "refuse") {
          throw alreadyInstalled([...new Set([...state.objects, ...state.storage.objects])].sort());
        }
        // The other media tables too, in one order, before the storage part reads them.
        if (plan.storage === "installed") {
          await lockStorageTables(run, row.schema, "SHARE ROW EXCLUSIVE");
        }
        let upgradedTriggers: string[] = [];
        if (plan.user === "upgraded") {
          if (!upgrading) await lockMediaTable(run, media, "ACCESS EXCLUSIVE");
          upgradedTriggers = await upgradeTriggers(run, row, state.outdatedTriggers);
          await shareWithMediaTableRoles(run, row.schema, row);
        } else if (plan.user === "installed") {
          for (const statement of creationStatements(row.schema)) {
            await run.rows(statement);
          }
          await shareWithMediaTableRoles(run, row.schema, row);
        }
        if (plan.storage === "installed") {
          for (const statement of postgresStorageStatements(row.schema)) {
            await run.rows(statement);
          }
          await sharePostgresStorage(run, row.schema, { quoted: row.owner, owned: row.owned });
        }
        return {
          ...(await countSummary(run, state.names.summary)),
          upgradedTriggers,
          userSummary: plan.user,
          storageSummary: plan.storage,
        };
      }),
    );
  },

  async uninstall(db: Knex): Promise<string[]> {
    const before = await readState(knexRunner(db, "postgres"));
    // Nothing there: do not lock Synapse's tables for nothing.
    if (before.state.objects.length === 0 && before.state.storage.objects.length === 0) return [];
    return explainPrivilegeErrors(
      "uninstall",
      db,
      inPostgresTransaction(db, async (run) => {
        // DROP TRIGGER takes ACCESS EXCLUSIVE on the media tables; taking it first, before
        // touching the summary, keeps a writer's lock order (media table, then summary), and
        // makes a concurrent install or uninstall wait for this one.
        await lockMediaTable(run, before.state.names.media, "ACCESS EXCLUSIVE");
        if (before.row !== undefined && before.state.storage.objects.length > 0) {
          await lockStorageTables(run, before.row.schema, "ACCESS EXCLUSIVE");
        }
        const { row, state } = await readState(run);
        if (row === undefined) return [];
        for (const name of row.triggers) {
          await run.rows(`DROP TRIGGER ${name} ON ${state.names.media}`);
        }
        for (const name of row.functions) {
          await run.rows(`DROP FUNCTION ${row.schema}.${name}()`);
        }
        // The table takes its primary key and indexes with it. RESTRICT (the default): should
        // anything else have come to depend on it, the uninstall stops rather than drop that too.
        const dropped = [...row.triggers, ...row.functions];
        if (state.table) {
          await run.rows(`DROP TABLE ${state.names.summary}`);
          dropped.push(...row.relations);
        }
        for (const statement of postgresStorageDrops(row.schema, state.storage)) {
          await run.rows(statement);
        }
        dropped.push(...state.storage.objects);
        return [...new Set(dropped)].sort();
      }),
    );
  },
};
