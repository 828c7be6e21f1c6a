// The storage part of the summary on SQLite: the same three tables and index as on
// PostgreSQL, and row-level triggers on the four media tables, created by the install of
// sqlite-summary.ts inside its BEGIN IMMEDIATE.

import type { SqlRunner } from "../sql";
import type { StorageSummaryState } from "./storage-state";
import {
  ORIGIN_FETCH_INDEX,
  SQLITE_STORAGE_TRIGGERS,
  STORAGE_SOURCE_TABLES,
  STORAGE_TABLES,
  storageTriggerName,
} from "./storage-names";
import {
  aggregateOf,
  columnsOf,
  measuresOf,
  STORAGE_TABLE_COLUMNS,
  STORAGE_TABLE_KEYS,
  storageSources,
  type StorageSource,
  type StorageTarget,
} from "./storage-targets";

export async function inspectSqliteStorage(run: SqlRunner): Promise<StorageSummaryState> {
  const names = [
    ...STORAGE_SOURCE_TABLES,
    ...STORAGE_TABLES,
    ORIGIN_FETCH_INDEX,
    ...SQLITE_STORAGE_TRIGGERS,
  ];
  const rows = await run.rows<{ type: string; name: string; tbl_name: string }>(
    `SELECT type, name, tbl_name FROM sqlite_master WHERE name IN (${names.map(() => "?").join(", ")})`,
    names,
  );
  const has = (type: string, name: string, on?: string): boolean =>
    rows.some(
      (row) => row.type === type && row.name === name && (on === undefined || row.tbl_name === on),
    );
  const triggers = rows
    .filter((row) => row.type === "trigger" && SQLITE_STORAGE_TRIGGERS.includes(row.name))
    .map((row) => ({ name: row.name, table: row.tbl_name }));
  const tables = STORAGE_TABLES.filter((table) => has("table", table));
  const index = has("index", ORIGIN_FETCH_INDEX, "remote_media_cache");
  return {
    prefix: "",
    sourcesPresent: STORAGE_SOURCE_TABLES.every((table) => has("table", table)),
    objects: [
      ...tables,
      ...(index ? [ORIGIN_FETCH_INDEX] : []),
      ...triggers.map((t) => t.name),
    ].sort(),
    tables: tables.length === STORAGE_TABLES.length,
    readable: true,
    missing: [
      ...STORAGE_TABLES.filter((table) => !tables.includes(table)),
      ...(index ? [] : [ORIGIN_FETCH_INDEX]),
    ],
    missingTriggers: SQLITE_STORAGE_TRIGGERS.filter(
      (name) =>
        !triggers.some(
          (trigger) => trigger.name === name && TRIGGER_TABLES.get(name) === trigger.table,
        ),
    ),
    dropTriggers: triggers,
  };
}

/** The table each trigger belongs on: one of that name on another table is not ours. */
const TRIGGER_TABLES = new Map<string, string>(
  STORAGE_SOURCE_TABLES.flatMap((table) =>
    (["insert", "update", "delete"] as const).map(
      (event) => [storageTriggerName(table, event), table] as const,
    ),
  ),
);

// SQLite triggers have no IF: a step that does not apply is switched off by its `where`,
// evaluated on the row. The SELECT's WHERE also keeps the upsert's ON CONFLICT unambiguous.
function upsert(target: StorageTarget, row: "NEW." | "OLD.", sign: "" | "-"): string {
  const values = [
    ...target.keys.map((key) => key.value(row)),
    `${sign}1`,
    ...target.sums.map((sum) => `${sign}(${sum.value(row)})`),
  ];
  const measures = measuresOf(target);
  return `
  INSERT INTO ${target.table} (${columnsOf(target).join(", ")})
  SELECT ${values.join(", ")} WHERE ${target.where(row)}
  ON CONFLICT (${target.keys.map((key) => key.column).join(", ")}) DO UPDATE
     SET ${measures.map((column) => `${column} = ${column} + excluded.${column}`).join(", ")};`;
}

const dropEmptied = (target: StorageTarget): string => `
  DELETE FROM ${target.table}
   WHERE ${[
     ...target.keys.map((key) => `${key.column} = ${key.value("OLD.")}`),
     ...measuresOf(target).map((column) => `${column} = 0`),
   ].join(" AND ")};`;

function triggersOf(source: StorageSource): string[] {
  const name = (event: "insert" | "update" | "delete") => storageTriggerName(source.table, event);
  const changed = source.columns.map((column) => `OLD.${column} IS NOT NEW.${column}`).join(" OR ");
  const each = (step: (target: StorageTarget) => string) => source.targets.map(step).join("");
  return [
    `CREATE TRIGGER ${name("insert")} AFTER INSERT ON ${source.table} FOR EACH ROW
BEGIN${each((target) => upsert(target, "NEW.", ""))}
END`,
    `CREATE TRIGGER ${name("delete")} AFTER DELETE ON ${source.table} FOR EACH ROW
BEGIN${each((target) => upsert(target, "OLD.", "-") + dropEmptied(target))}
END`,
    // The old row leaves its key and the new one joins its own (perhaps the same one).
    `CREATE TRIGGER ${name("update")} AFTER UPDATE OF ${source.columns.join(", ")} ON ${source.table} FOR EACH ROW
 WHEN ${changed}
BEGIN${each((target) => upsert(target, "OLD.", "-") + upsert(target, "NEW.", "") + dropEmptied(target))}
END`,
  ];
}

/** The statements that create and fill the storage part, in order. */
export function sqliteStorageStatements(): string[] {
  // WITHOUT ROWID: each table is its key's b-tree, so a trigger's upsert is one lookup.
  const statements = STORAGE_TABLES.map(
    (table) =>
      `CREATE TABLE ${table} (\n     ${STORAGE_TABLE_COLUMNS[table]},\n     PRIMARY KEY (${STORAGE_TABLE_KEYS[table]})\n   ) WITHOUT ROWID`,
  );
  const sources = storageSources("sqlite");
  for (const source of sources) {
    for (const target of source.targets) {
      // NOT INDEXED: one read of the table, not a walk of an index with a lookup per row.
      statements.push(
        `INSERT INTO ${target.table} (${columnsOf(target).join(", ")})
         ${aggregateOf(target, source.table, "", " NOT INDEXED")}`,
      );
    }
  }
  statements.push(
    `CREATE INDEX ${ORIGIN_FETCH_INDEX} ON remote_media_cache (media_origin, created_ts)`,
  );
  for (const source of sources) statements.push(...triggersOf(source));
  return statements;
}

/** Drops whatever exists of the storage part. */
export function sqliteStorageDrops(state: StorageSummaryState): string[] {
  return [
    ...state.dropTriggers.map((trigger) => `DROP TRIGGER ${trigger.name}`),
    ...STORAGE_TABLES.filter((table) => state.objects.includes(table)).map(
      (table) => `DROP TABLE ${table}`,
    ),
    ...(state.objects.includes(ORIGIN_FETCH_INDEX) ? [`DROP INDEX ${ORIGIN_FETCH_INDEX}`] : []),
  ];
}
