// Statement-level triggers on PostgreSQL that keep a summary table (one row per group of a
// source table, a count of its rows and sums of some of their columns) exact. Each statement on
// the source reads the rows it changed from its transition tables (REFERENCING NEW TABLE / OLD
// TABLE, PostgreSQL 10+), nets them per group, and writes each group's summary row once: a
// statement of 100,000 rows for one user makes one new version of that user's row, where a
// row-level trigger would make 100,000 in the same transaction, each slower than the last: the
// lookup of the row steps over every earlier version, all still in the indexes and none
// reclaimable before the transaction ends (quadratic: issue 11, item 8).

import {
  aggregateOf,
  columnsOf as targetColumns,
  measuresOf,
  type StorageTarget,
} from "./storage-targets";

/** A summary of a source table, described for generating its triggers. */
export interface SummarisedTable {
  /** The source table, as statements must name it (schema-qualified). */
  source: string;
  /** The summary table, as statements must name it. */
  summary: string;
  /** The schema the trigger functions go in (quoted). */
  schema: string;
  /** The column rows are grouped by, of the same name in both tables; rows where it is NULL count for no one. */
  key: string;
  /** Its SQL type, for the list of groups a statement emptied. */
  keyType: string;
  /** The summary column counting a group's rows. */
  count: string;
  /** Summary columns each holding the sum of a source column over the group (NULL adds 0). */
  sums: ReadonlyArray<{ column: string; of: string }>;
  /** The trigger of each event; each calls a function of its own name. */
  triggers: Readonly<Record<TriggerEvent, string>>;
}

export type TriggerEvent = "insert" | "update" | "delete" | "truncate";

export interface TriggerDefinition {
  event: TriggerEvent;
  /** The trigger's name, and its function's. */
  name: string;
  /** The function's source, exactly as pg_proc.prosrc keeps it: an installed copy that differs is of another version. */
  source: string;
  /** CREATE [OR REPLACE] FUNCTION. */
  createFunction(replace: boolean): string;
  createTrigger: string;
}

/**
 * One row per group of `from`'s rows: its key, row count and sums, named as the summary's
 * columns (negated with `sign` "-", for rows that leave the summary).
 */
export function aggregateRows(table: SummarisedTable, from: string, sign: "" | "-" = ""): string {
  const sums = table.sums.map(({ column, of }) => `, ${sign}COALESCE(SUM(${of}), 0) AS ${column}`);
  return `SELECT ${table.key}, ${sign}COUNT(*) AS ${table.count}${sums.join("")}
    FROM ${from}
   WHERE ${table.key} IS NOT NULL
   GROUP BY ${table.key}`;
}

const columnsOf = (table: SummarisedTable): string[] => [
  table.count,
  ...table.sums.map(({ column }) => column),
];

/**
 * The net change an UPDATE made to each group: +1 and the new values for each new row, -1 and
 * the old values for each old one, summed, leaving out groups whose count and sums did not
 * change (an UPDATE of other columns, or of one group's rows to the same totals).
 */
function netChangeOfUpdate(table: SummarisedTable): string {
  const columns = columnsOf(table);
  const signed = (sign: "" | "-", rows: string) =>
    `SELECT ${table.key}, ${sign}1 AS ${table.count}${table.sums
      .map(({ column, of }) =>
        sign === "" && of === column ? `, ${of}` : `, ${sign}${of} AS ${column}`,
      )
      .join("")} FROM ${rows}`;
  return `SELECT ${table.key}, ${columns.map((column) => `COALESCE(SUM(${column}), 0)`).join(", ")}
    FROM (${signed("", "new_rows")}
          UNION ALL
          ${signed("-", "old_rows")}) AS changed
   WHERE ${table.key} IS NOT NULL
   GROUP BY ${table.key}
  HAVING ${columns.map((column) => `SUM(${column}) <> 0`).join(" OR ")}`;
}

/**
 * The body of the function of a statement that adds rows (`added`), removes them, or both: it
 * upserts each group's net change. The upsert takes the summary rows' locks in byte order of
 * the key, whatever the order of the statement's rows, so two statements on the same groups
 * queue rather than deadlock; the groups it brought to no rows are then deleted, under the
 * locks it already holds.
 */
function applyChangeBody(table: SummarisedTable, added: boolean, removed: boolean): string {
  const columns = columnsOf(table);
  const change = !removed
    ? aggregateRows(table, "new_rows")
    : !added
      ? aggregateRows(table, "old_rows", "-")
      : netChangeOfUpdate(table);
  const upsert = `INSERT INTO ${table.summary} AS summary (${table.key}, ${columns.join(", ")})
  ${change}
   ORDER BY ${table.key} COLLATE "C"
  ON CONFLICT (${table.key}) DO UPDATE
     SET ${columns.map((column) => `${column} = summary.${column} + EXCLUDED.${column}`).join(",\n         ")}`;
  if (!removed) {
    return `BEGIN
  ${upsert};
  RETURN NULL;
END`;
  }
  return `DECLARE
  emptied ${table.keyType}[];
BEGIN
  WITH applied AS (
  ${upsert}
  RETURNING summary.${table.key}, summary.${table.count}
  )
  SELECT array_agg(${table.key}) INTO emptied FROM applied WHERE ${table.count} = 0;
  IF emptied IS NOT NULL THEN
    DELETE FROM ${table.summary} WHERE ${table.key} = ANY (emptied);
  END IF;
  RETURN NULL;
END`;
}

const EVENTS: Record<
  TriggerEvent,
  { on: string; referencing: string; body: (table: SummarisedTable) => string }
> = {
  insert: {
    on: "INSERT",
    referencing: " REFERENCING NEW TABLE AS new_rows",
    body: (table) => applyChangeBody(table, true, false),
  },
  // Transition tables allow no column list (UPDATE OF ...): the trigger runs for every UPDATE,
  // and one that changes neither key nor summed columns finds no net change and writes nothing.
  update: {
    on: "UPDATE",
    referencing: " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    body: (table) => applyChangeBody(table, true, true),
  },
  delete: {
    on: "DELETE",
    referencing: " REFERENCING OLD TABLE AS old_rows",
    body: (table) => applyChangeBody(table, false, true),
  },
  truncate: {
    on: "TRUNCATE",
    referencing: "",
    body: (table) => `BEGIN
  TRUNCATE ${table.summary};
  RETURN NULL;
END`,
  },
};

/** The four triggers (and their functions) that keep `table`'s summary exact. */
export function statementTriggers(table: SummarisedTable): TriggerDefinition[] {
  return (Object.keys(EVENTS) as TriggerEvent[]).map((event) => {
    const { on, referencing, body } = EVENTS[event];
    return defineTrigger(table.schema, table.source, table.triggers[event], event, {
      on,
      referencing,
      body: body(table),
    });
  });
}

/** A statement-level trigger on `source` and the function of its name, in `schema`. */
function defineTrigger(
  schema: string,
  source: string,
  name: string,
  event: TriggerEvent,
  form: { on: string; referencing: string; body: string },
): TriggerDefinition {
  const text = `\n${form.body}\n`;
  return {
    event,
    name,
    source: text,
    createFunction: (replace) =>
      `CREATE ${replace ? "OR REPLACE " : ""}FUNCTION ${schema}.${name}() RETURNS trigger LANGUAGE plpgsql AS $sas$${text}$sas$`,
    createTrigger: `CREATE TRIGGER ${name} AFTER ${form.on} ON ${source}${form.referencing} FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.${name}()`,
  };
}

/**
 * A source table feeding several summaries, each keyed by expressions over its rows (see
 * storage-targets.ts): one function per event writes them all, in the order given.
 */
export interface MultiSummarySource {
  /** The source table, schema-qualified. */
  source: string;
  /** The schema of the summaries and of the trigger functions (quoted). */
  schema: string;
  targets: readonly StorageTarget[];
  /** Every column the targets read: an UPDATE that changes none of them changes no summary. */
  columns: readonly string[];
  triggers: Readonly<Record<TriggerEvent, string>>;
}

/** The net change of an UPDATE to `target`, per key, leaving out keys it did not change. */
function netChangeOfTarget(target: StorageTarget): string {
  const keys = target.keys.map((key) => key.column);
  const values = target.sums.map((sum) => sum.column);
  const signed = (sign: "" | "-", rows: string) =>
    `SELECT ${[
      ...target.keys.map((key) => `${key.value("r.")} AS ${key.column}`),
      `${sign}1 AS ${target.count}`,
      ...target.sums.map(({ column, value }) => `${sign}COALESCE(${value("r.")}, 0) AS ${column}`),
    ].join(", ")} FROM ${rows} AS r WHERE ${target.where("r.")}`;
  const measures = [target.count, ...values];
  return `SELECT ${[...keys, ...measures.map((column) => `SUM(${column}) AS ${column}`)].join(", ")}
    FROM (${signed("", "new_rows")}
          UNION ALL
          ${signed("-", "old_rows")}) AS changed
   GROUP BY ${keys.join(", ")}
  HAVING ${measures.map((column) => `SUM(${column}) <> 0`).join(" OR ")}`;
}

/**
 * The statements of one target for a statement that adds rows, removes them, or both: an
 * upsert of each key's net change, taking the summary rows' locks in key order (text in byte
 * order) whatever the order of the statement's rows, so that statements on the same keys
 * queue rather than deadlock; then the rows it brought back to all zeros are deleted, under
 * the locks it holds. `index` names its variables apart from the other targets'.
 */
function applyTargetChange(
  schema: string,
  target: StorageTarget,
  index: number,
  added: boolean,
  removed: boolean,
): { declare: string[]; body: string } {
  const table = `${schema}.${target.table}`;
  const measures = measuresOf(target);
  const change = !removed
    ? aggregateOf(target, "new_rows")
    : !added
      ? aggregateOf(target, "old_rows", "-")
      : netChangeOfTarget(target);
  const order = target.keys
    .map((key) => (key.type === "TEXT" ? `${key.column} COLLATE "C"` : key.column))
    .join(", ");
  const keys = target.keys.map((key) => key.column);
  const upsert = `INSERT INTO ${table} AS summary (${targetColumns(target).join(", ")})
  SELECT * FROM (${change}) AS change
   ORDER BY ${order}
  ON CONFLICT (${keys.join(", ")}) DO UPDATE
     SET ${measures.map((column) => `${column} = summary.${column} + EXCLUDED.${column}`).join(",\n         ")}`;
  if (!removed) return { declare: [], body: `  ${upsert};` };
  const variables = target.keys.map((key, position) => ({
    name: `emptied_${index}_${position}`,
    type: `${key.type}[]`,
    column: key.column,
  }));
  const first = variables[0]?.name ?? "";
  return {
    declare: variables.map((variable) => `  ${variable.name} ${variable.type};`),
    body: `  WITH applied AS (
  ${upsert}
  RETURNING ${[...keys, ...measures].map((column) => `summary.${column}`).join(", ")}
  )
  SELECT ${variables.map((variable) => `array_agg(${variable.column})`).join(", ")}
    INTO ${variables.map((variable) => variable.name).join(", ")}
    FROM applied WHERE ${measures.map((column) => `${column} = 0`).join(" AND ")};
  IF ${first} IS NOT NULL THEN
    DELETE FROM ${table}
     WHERE (${keys.join(", ")}) IN (SELECT * FROM unnest(${variables.map((variable) => variable.name).join(", ")}));
  END IF;`,
  };
}

function multiSummaryBody(source: MultiSummarySource, event: TriggerEvent): string {
  if (event === "truncate") {
    return `BEGIN
${source.targets.map((target) => `  ${target.empty.replace(target.table, `${source.schema}.${target.table}`)};`).join("\n")}
  RETURN NULL;
END`;
  }
  const added = event !== "delete";
  const removed = event !== "insert";
  const parts = source.targets.map((target, index) =>
    applyTargetChange(source.schema, target, index, added, removed),
  );
  const declare = parts.flatMap((part) => part.declare);
  // Most UPDATEs (Synapse's access times) change none of the columns read: the new rows then
  // equal the old ones as a multiset, which one query tells, cheaper than every net change.
  const columns = source.columns.join(", ");
  const unchanged =
    event === "update"
      ? `  IF NOT EXISTS (SELECT ${columns} FROM new_rows EXCEPT ALL SELECT ${columns} FROM old_rows) THEN
    RETURN NULL;
  END IF;
`
      : "";
  return `${declare.length > 0 ? `DECLARE\n${declare.join("\n")}\n` : ""}BEGIN
${unchanged}${parts.map((part) => part.body).join("\n")}
  RETURN NULL;
END`;
}

/** The four triggers (and their functions) of a source feeding several summaries. */
export function multiSummaryTriggers(source: MultiSummarySource): TriggerDefinition[] {
  return (Object.keys(EVENTS) as TriggerEvent[]).map((event) => {
    const { on, referencing } = EVENTS[event];
    return defineTrigger(source.schema, source.source, source.triggers[event], event, {
      on,
      referencing,
      body: multiSummaryBody(source, event),
    });
  });
}
