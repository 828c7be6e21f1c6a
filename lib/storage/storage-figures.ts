// Where the disk goes, in the few figures the metrics listener exports: media and thumbnail
// totals, and the size of the database and of its largest tables. Read with the storage
// overview's own functions, but only its totals: no content types or months, so one refresh
// is one aggregate scan of each media table and a catalogue read; the caller decides how rarely.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import type { CountAndBytes } from "../storage-types";
import { readDatabaseSize, readLargestTables } from "./database-size";
import { existingTables } from "./existing-tables";
import { readMediaTotals, readThumbnailTotals } from "./media-usage";
import type { DatabaseHandle } from "./storage-overview";
import { inSnapshot } from "./users-media";

/** Which of Synapse's databases a figure belongs to. */
export type DatabaseRole = "main" | "state";

/** Everything one refresh of the storage gauges reads. */
export interface StorageFigures {
  /** `local_media_repository`: every row, URL previews and quarantined media included. */
  localMedia: CountAndBytes;
  /** `local_media_repository_thumbnails`; absent when the table does not exist. */
  localThumbnails?: CountAndBytes;
  /** `remote_media_cache`; absent when the table does not exist. */
  remoteMedia?: CountAndBytes;
  /** `remote_media_cache_thumbnails`; absent when the table does not exist. */
  remoteThumbnails?: CountAndBytes;
  /** Each database's size on disk: the main one, and the state one when it is split off. */
  databases: Array<{ database: DatabaseRole; bytes: number }>;
  /** The largest tables of each database, indexes and TOAST included, largest first. */
  largestTables: Array<{ database: DatabaseRole; schema: string; table: string; bytes: number }>;
}

/** Reads the figures afresh. The metrics listener calls it in the background. */
export type StorageFiguresProvider = () => Promise<StorageFigures>;

/** How many tables of each database the largest-tables figure lists. */
export const LARGEST_TABLES_LIMIT = 10;

// The tables beside local_media_repository, which an old or trimmed database may lack: each
// gives its figure only when it is there.
const OPTIONAL_STORES: ReadonlyArray<{
  figure: "localThumbnails" | "remoteMedia" | "remoteThumbnails";
  table: string;
  read(db: Knex, dialect: Dialect): Promise<CountAndBytes>;
}> = [
  {
    figure: "localThumbnails",
    table: "local_media_repository_thumbnails",
    read: (db, dialect) => readThumbnailTotals(db, dialect, "local"),
  },
  {
    figure: "remoteMedia",
    table: "remote_media_cache",
    read: (db, dialect) => readMediaTotals(db, dialect, "remote"),
  },
  {
    figure: "remoteThumbnails",
    table: "remote_media_cache_thumbnails",
    read: (db, dialect) => readThumbnailTotals(db, dialect, "remote"),
  },
];

/** The figures of a Synapse database (and of its split-off state database, PostgreSQL only). */
export async function readStorageFigures(
  main: DatabaseHandle,
  state?: DatabaseHandle,
): Promise<StorageFigures> {
  // One snapshot, as the overview reads its media figures: the totals agree with each other.
  const media = await inSnapshot(main.db, main.dialect, async (trx) => {
    const present = await existingTables(
      trx,
      main.dialect,
      OPTIONAL_STORES.map((store) => store.table),
    );
    const local = await readMediaTotals(trx, main.dialect, "local");
    const figures: Pick<StorageFigures, "localMedia" | (typeof OPTIONAL_STORES)[number]["figure"]> =
      { localMedia: { count: local.count, bytes: local.bytes } };
    for (const store of OPTIONAL_STORES) {
      if (!present.has(store.table)) continue;
      const { count, bytes } = await store.read(trx, main.dialect);
      figures[store.figure] = { count, bytes };
    }
    return figures;
  });
  const figures: StorageFigures = { ...media, databases: [], largestTables: [] };
  for (const [database, handle] of [
    ["main", main],
    ["state", state],
  ] as const) {
    if (handle === undefined || (database === "state" && handle.db === main.db)) continue;
    figures.databases.push({ database, bytes: await readDatabaseSize(handle.db, handle.dialect) });
    // PostgreSQL only: SQLite tells a table's size only by reading every page of the file
    // (dbstat), too dear for a figure read every few minutes.
    if (handle.dialect !== "postgres") continue;
    const tables = await readLargestTables(handle.db, handle.dialect, LARGEST_TABLES_LIMIT);
    for (const table of tables ?? []) {
      figures.largestTables.push({
        database,
        schema: table.schema ?? "",
        table: table.table,
        bytes: table.total_bytes,
      });
    }
  }
  return figures;
}
