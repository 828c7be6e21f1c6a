// The storage part of the summary on PostgreSQL: three small tables, an index on
// remote_media_cache, and statement-level triggers on the four media tables, created in the
// media tables' schema by the install of postgres-summary.ts, in its transaction.

import type { SqlRunner } from "../sql";
import type { StorageSummaryState } from "./storage-state";
import { multiSummaryTriggers, type TriggerDefinition } from "./statement-triggers";
import {
  ORIGIN_FETCH_INDEX,
  POSTGRES_STORAGE_TRIGGERS,
  primaryKeyOf,
  STORAGE_SOURCE_TABLES,
  STORAGE_TABLES,
  storageTriggerName,
} from "./storage-names";
import {
  aggregateOf,
  columnsOf,
  STORAGE_TABLE_COLUMNS,
  STORAGE_TABLE_KEYS,
  storageSources,
} from "./storage-targets";

/**
 * The summary tables' autovacuum settings: every upload or fetch rewrites a row of each, so
 * dead versions pile up fast in a table of a few thousand rows; vacuumed once a thousand are
 * dead, whatever its size.
 */
const STORAGE_PARAMETERS =
  "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0";

const RELATIONS = [...STORAGE_TABLES, ...STORAGE_TABLES.map(primaryKeyOf), ORIGIN_FETCH_INDEX];

interface StorageRow {
  sources: string[];
  relations: string[];
  readable: boolean;
  index_valid: boolean | null;
  enabled_triggers: string[];
  triggers: Array<{ name: string; table: string }> | null;
  functions: string[];
}

/** What of the storage part exists in `schema` (quoted, as quote_ident gives it). */
export async function inspectPostgresStorage(
  run: SqlRunner,
  schema: string,
): Promise<StorageSummaryState> {
  const [row] = await run.rows<StorageRow>(
    `WITH ns AS (SELECT oid FROM pg_namespace WHERE quote_ident(nspname) = ?),
          sources AS (SELECT c.oid, c.relname FROM pg_class c, ns
                       WHERE c.relnamespace = ns.oid AND c.relname = ANY(?::text[]) AND c.relkind = 'r')
     SELECT ARRAY(SELECT relname::text FROM sources) AS sources,
            ARRAY(SELECT c.relname::text FROM pg_class c, ns
                   WHERE c.relnamespace = ns.oid AND c.relname = ANY(?::text[])) AS relations,
            COALESCE((SELECT bool_and(has_table_privilege(c.oid, 'SELECT')) FROM pg_class c, ns
                       WHERE c.relnamespace = ns.oid AND c.relname = ANY(?::text[]) AND c.relkind = 'r'), false) AS readable,
            (SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid, ns
              WHERE c.relnamespace = ns.oid AND c.relname = ?) AS index_valid,
            ARRAY(SELECT t.tgname::text FROM pg_trigger t JOIN sources s ON s.oid = t.tgrelid
                   WHERE t.tgname = ANY(?::text[]) AND t.tgenabled IN ('O', 'A')) AS enabled_triggers,
            (SELECT json_agg(json_build_object('name', t.tgname, 'table', s.relname))
               FROM pg_trigger t JOIN sources s ON s.oid = t.tgrelid
              WHERE t.tgname = ANY(?::text[])) AS triggers,
            ARRAY(SELECT p.proname::text FROM pg_proc p, ns
                   WHERE p.pronamespace = ns.oid AND p.proname = ANY(?::text[])
                     AND p.pronargs = 0 AND p.prorettype = 'trigger'::regtype) AS functions`,
    [
      schema,
      STORAGE_SOURCE_TABLES,
      RELATIONS,
      STORAGE_TABLES,
      ORIGIN_FETCH_INDEX,
      POSTGRES_STORAGE_TRIGGERS,
      POSTGRES_STORAGE_TRIGGERS,
      POSTGRES_STORAGE_TRIGGERS,
    ],
  );
  const relations = row?.relations ?? [];
  const triggers = row?.triggers ?? [];
  const enabled = row?.enabled_triggers ?? [];
  const missing = [
    ...RELATIONS.filter((name) => !relations.includes(name)),
    ...(row?.index_valid === false ? [ORIGIN_FETCH_INDEX] : []),
  ];
  return {
    prefix: `${schema}.`,
    sourcesPresent: (row?.sources ?? []).length === STORAGE_SOURCE_TABLES.length,
    objects: [
      ...new Set([...relations, ...triggers.map((t) => t.name), ...(row?.functions ?? [])]),
    ].sort(),
    tables: STORAGE_TABLES.every((table) => relations.includes(table)),
    readable: row?.readable === true,
    missing,
    missingTriggers: POSTGRES_STORAGE_TRIGGERS.filter((name) => !enabled.includes(name)),
    dropTriggers: triggers,
  };
}

/** Every trigger of the storage part, for media tables in `schema`. */
function storageTriggers(schema: string): TriggerDefinition[] {
  return storageSources("postgres").flatMap((source) =>
    multiSummaryTriggers({
      source: `${schema}.${source.table}`,
      schema,
      targets: source.targets,
      columns: source.columns,
      triggers: {
        insert: storageTriggerName(source.table, "insert"),
        update: storageTriggerName(source.table, "update"),
        delete: storageTriggerName(source.table, "delete"),
        truncate: storageTriggerName(source.table, "truncate"),
      },
    }),
  );
}

/**
 * The statements that create and fill the storage part, in order. The origin column keeps
 * the database's collation, as remote_media_cache's has, so an origin read from the summary
 * finds its rows through the index; byte order is asked for where a sort needs it.
 */
export function postgresStorageStatements(schema: string): string[] {
  const statements = STORAGE_TABLES.map(
    (table) =>
      `CREATE TABLE ${schema}.${table} (
     ${STORAGE_TABLE_COLUMNS[table]},
     CONSTRAINT ${primaryKeyOf(table)} PRIMARY KEY (${STORAGE_TABLE_KEYS[table]})
   ) WITH (${STORAGE_PARAMETERS})`,
  );
  for (const source of storageSources("postgres")) {
    for (const target of source.targets) {
      // Each media table feeds one overview source: its rows never collide with another's.
      statements.push(
        `INSERT INTO ${schema}.${target.table} (${columnsOf(target).join(", ")})
         ${aggregateOf(target, `${schema}.${source.table}`)}`,
      );
    }
  }
  statements.push(
    `CREATE INDEX ${ORIGIN_FETCH_INDEX} ON ${schema}.remote_media_cache (media_origin, created_ts)`,
  );
  for (const trigger of storageTriggers(schema)) {
    statements.push(trigger.createFunction(false), trigger.createTrigger);
  }
  for (const table of STORAGE_TABLES) statements.push(`ANALYZE ${schema}.${table}`);
  return statements;
}

/** The storage part's triggers by the table each is on, as the state found them. */
export function postgresStorageDrops(schema: string, state: StorageSummaryState): string[] {
  const statements = state.dropTriggers.map(
    (trigger) => `DROP TRIGGER ${trigger.name} ON ${schema}.${trigger.table}`,
  );
  for (const name of POSTGRES_STORAGE_TRIGGERS) {
    if (state.objects.includes(name)) statements.push(`DROP FUNCTION ${schema}.${name}()`);
  }
  for (const table of STORAGE_TABLES) {
    if (state.objects.includes(table)) statements.push(`DROP TABLE ${schema}.${table}`);
  }
  if (state.objects.includes(ORIGIN_FETCH_INDEX)) {
    statements.push(`DROP INDEX ${schema}.${ORIGIN_FETCH_INDEX}`);
  }
  return statements;
}

/**
 * Gives the storage part to `owner` (the media tables' owner, whose role Synapse writes with)
 * and shares it with the roles granted access to the media tables: readers may read it,
 * writers (whose changes fire the triggers) may write it.
 */
export async function sharePostgresStorage(
  run: SqlRunner,
  schema: string,
  owner: { quoted: string; owned: boolean },
): Promise<void> {
  if (!owner.owned) {
    for (const table of STORAGE_TABLES) {
      await run.rows(`ALTER TABLE ${schema}.${table} OWNER TO ${owner.quoted}`);
    }
    for (const name of POSTGRES_STORAGE_TRIGGERS) {
      await run.rows(`ALTER FUNCTION ${schema}.${name}() OWNER TO ${owner.quoted}`);
    }
  }
  const grantees = await run.rows<{ grantee: string; writes: boolean }>(
    `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee,
            bool_or(a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')) AS writes
       FROM pg_class m CROSS JOIN LATERAL aclexplode(m.relacl) AS a
      WHERE m.oid IN (SELECT to_regclass(? || '.' || t) FROM unnest(?::text[]) AS t)
        AND a.grantee <> m.relowner
        AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
      GROUP BY a.grantee`,
    [schema, STORAGE_SOURCE_TABLES],
  );
  for (const { grantee, writes } of grantees) {
    // The triggers read, insert, update and delete summary rows (a TRUNCATE's deletes too).
    const privileges = writes ? "SELECT, INSERT, UPDATE, DELETE" : "SELECT";
    for (const table of STORAGE_TABLES) {
      await run.rows(`GRANT ${privileges} ON ${schema}.${table} TO ${grantee}`);
    }
  }
}
