// The summary on SQLite: a WITHOUT ROWID table keyed by user, an index per sort, and triggers
// on local_media_repository that keep it exact, installed in one transaction that holds the
// write lock from before the backfill until the triggers exist.

import type { Knex } from "knex";
import {
  countSummary,
  planInstall,
  type InstallOutcome,
  type SummaryBackend,
  type SummaryState,
} from "./backend";
import {
  MEDIA_TABLE,
  MEDIA_USAGE_SUMMARY_TABLE,
  SQLITE_TRIGGERS,
  SUMMARY_INDEXES,
  SUMMARY_TRIGGERS,
} from "./names";
import { alreadyInstalled, noMediaTable } from "./errors";
import { inSqliteImmediateTransaction, knexRunner, type SqlRunner } from "../sql";
import {
  inspectSqliteStorage,
  sqliteStorageDrops,
  sqliteStorageStatements,
} from "./storage-sqlite";

const OBJECTS = [MEDIA_USAGE_SUMMARY_TABLE, ...Object.values(SUMMARY_INDEXES), ...SQLITE_TRIGGERS];
const NAMES = { summary: MEDIA_USAGE_SUMMARY_TABLE, media: MEDIA_TABLE };

async function readState(run: SqlRunner): Promise<SummaryState> {
  const rows = await run.rows<{ type: string; name: string; tbl_name: string }>(
    `SELECT type, name, tbl_name FROM sqlite_master WHERE name IN (${[MEDIA_TABLE, ...OBJECTS].map(() => "?").join(", ")})`,
    [MEDIA_TABLE, ...OBJECTS],
  );
  const has = (type: string, name: string): boolean =>
    rows.some((row) => row.type === type && row.name === name);
  const table = has("table", MEDIA_USAGE_SUMMARY_TABLE);
  return {
    mediaTable: has("table", MEDIA_TABLE),
    table,
    readable: table,
    missingTriggers: SQLITE_TRIGGERS.filter(
      (name) =>
        !rows.some(
          (row) => row.type === "trigger" && row.name === name && row.tbl_name === MEDIA_TABLE,
        ),
    ),
    // SQLite's triggers are the row-level ones every version installed: none is outdated.
    outdatedTriggers: [],
    // Ours only: a trigger of another table, or an index of another table, that happens to
    // carry one of these names is not the summary's (and install's CREATE will say so).
    objects: rows
      .filter(
        (row) =>
          (row.type === "table" && row.name === MEDIA_USAGE_SUMMARY_TABLE) ||
          (row.type === "index" && row.tbl_name === MEDIA_USAGE_SUMMARY_TABLE) ||
          (row.type === "trigger" && row.tbl_name === MEDIA_TABLE),
      )
      .map((row) => row.name)
      .sort(),
    names: NAMES,
    storage: await inspectSqliteStorage(run),
  };
}

// The two steps every trigger is made of. SQLite triggers have no IF: a step that does not
// apply is switched off by its `guard` (an expression over OLD and NEW), evaluated per row.
const addNew = (guard = "1") => `
  INSERT INTO ${MEDIA_USAGE_SUMMARY_TABLE} (user_id, media_count, media_length)
  SELECT NEW.user_id, 1, COALESCE(NEW.media_length, 0) WHERE ${guard}
  ON CONFLICT (user_id) DO UPDATE
     SET media_count = media_count + 1,
         media_length = media_length + excluded.media_length;`;
const removeOld = (guard = "1") => `
  UPDATE ${MEDIA_USAGE_SUMMARY_TABLE}
     SET media_count = media_count - 1,
         media_length = media_length - COALESCE(OLD.media_length, 0)
   WHERE user_id = OLD.user_id AND ${guard};
  DELETE FROM ${MEDIA_USAGE_SUMMARY_TABLE} WHERE user_id = OLD.user_id AND media_count = 0 AND ${guard};`;

const MOVED = "OLD.user_id IS NOT NEW.user_id";

const TRIGGERS: Record<"insert" | "delete" | "update", { event: string; body: string }> = {
  insert: {
    event: `AFTER INSERT ON ${MEDIA_TABLE} FOR EACH ROW WHEN NEW.user_id IS NOT NULL`,
    body: addNew(),
  },
  delete: {
    event: `AFTER DELETE ON ${MEDIA_TABLE} FOR EACH ROW WHEN OLD.user_id IS NOT NULL`,
    body: removeOld(),
  },
  update: {
    event:
      `AFTER UPDATE OF user_id, media_length ON ${MEDIA_TABLE} FOR EACH ROW` +
      ` WHEN ${MOVED} OR OLD.media_length IS NOT NEW.media_length`,
    // Same user: only the length moves. Another user (or none, on either side): the media
    // leaves the old user and joins the new one.
    body: `
  UPDATE ${MEDIA_USAGE_SUMMARY_TABLE}
     SET media_length = media_length - COALESCE(OLD.media_length, 0) + COALESCE(NEW.media_length, 0)
   WHERE user_id = NEW.user_id AND NOT (${MOVED});${removeOld(MOVED)}${addNew(`NEW.user_id IS NOT NULL AND ${MOVED}`)}`,
  },
};

function creationStatements(): string[] {
  const statements = [
    // WITHOUT ROWID: the table is its primary key's b-tree, so an upload's update is one
    // lookup, and no automatic index appears under a name outside our prefix.
    `CREATE TABLE ${MEDIA_USAGE_SUMMARY_TABLE} (
       user_id TEXT NOT NULL PRIMARY KEY,
       media_count BIGINT NOT NULL,
       media_length BIGINT NOT NULL
     ) WITHOUT ROWID`,
    `INSERT INTO ${MEDIA_USAGE_SUMMARY_TABLE} (user_id, media_count, media_length)
     SELECT user_id, COUNT(*), COALESCE(SUM(media_length), 0)
       FROM ${MEDIA_TABLE} NOT INDEXED -- one read of the table, not a walk of the index with a lookup per row
      WHERE user_id IS NOT NULL
      GROUP BY user_id`,
    // SQLite's default BINARY collation already compares by bytes.
    `CREATE INDEX ${SUMMARY_INDEXES.media_length} ON ${MEDIA_USAGE_SUMMARY_TABLE} (media_length, user_id)`,
    `CREATE INDEX ${SUMMARY_INDEXES.media_count} ON ${MEDIA_USAGE_SUMMARY_TABLE} (media_count, user_id)`,
  ];
  for (const [event, { event: when, body }] of Object.entries(TRIGGERS) as Array<
    [keyof typeof TRIGGERS, { event: string; body: string }]
  >) {
    statements.push(`CREATE TRIGGER ${SUMMARY_TRIGGERS[event]} ${when}\nBEGIN${body}\nEND`);
  }
  return statements;
}

export const sqliteSummary: SummaryBackend = {
  inspect(db: Knex): Promise<SummaryState> {
    return readState(knexRunner(db, "sqlite"));
  },

  install(db: Knex): Promise<InstallOutcome> {
    // BEGIN IMMEDIATE holds every other writer off until COMMIT: nothing can change the media
    // table between the backfill and the triggers.
    return inSqliteImmediateTransaction(db, async (run) => {
      const state = await readState(run);
      if (!state.mediaTable) throw noMediaTable();
      // SQLite's triggers are the row-level ones every version installed: none to upgrade.
      const plan = planInstall(state, false);
      if (plan.user === "refuse" || plan.storage === "refuse") {
        throw alreadyInstalled([...new Set([...state.objects, ...state.storage.objects])].sort());
      }
      const statements = [
        ...(plan.user === "installed" ? creationStatements() : []),
        ...(plan.storage === "installed" ? sqliteStorageStatements() : []),
      ];
      for (const statement of statements) {
        await run.rows(statement);
      }
      return {
        ...(await countSummary(run, MEDIA_USAGE_SUMMARY_TABLE)),
        upgradedTriggers: [],
        userSummary: plan.user,
        storageSummary: plan.storage,
      };
    });
  },

  async uninstall(db: Knex): Promise<string[]> {
    const before = await readState(knexRunner(db, "sqlite"));
    if (before.objects.length === 0 && before.storage.objects.length === 0) return [];
    return inSqliteImmediateTransaction(db, async (run) => {
      const state = await readState(run);
      const triggers = SQLITE_TRIGGERS.filter((name) => state.objects.includes(name));
      for (const name of triggers) {
        await run.rows(`DROP TRIGGER ${name}`);
      }
      // The table takes its indexes with it.
      if (state.table) await run.rows(`DROP TABLE ${MEDIA_USAGE_SUMMARY_TABLE}`);
      for (const statement of sqliteStorageDrops(state.storage)) {
        await run.rows(statement);
      }
      return [
        ...new Set([...(state.table ? state.objects : triggers), ...state.storage.objects]),
      ].sort();
    });
  },
};
