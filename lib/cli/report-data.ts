// The figures `report` prints, read with the very functions behind the endpoints: the storage
// overview, the top uploaders and the top origins in one snapshot, then the largest rooms by
// the planner estimate (PostgreSQL only). Reads only.

import { DEFAULT_SAMPLE_STATEMENT_TIMEOUT_MS } from "../options";
import { hiddenTableMessage } from "../endpoints/rooms";
import { readRemoteOrigins } from "../storage/remote-origins";
import { createRoomsStore } from "../storage/rooms-store";
import { readStorageOverview, type DatabaseHandle } from "../storage/storage-overview";
import { createUsersMediaStore } from "../storage/users-media-store";
import { inSnapshot } from "../storage/users-media";
import type { UserMediaUsage } from "../types";
import type { StorageOverview } from "../storage-types";
import {
  REPORT_TOP,
  STORAGE_REPORT_VERSION,
  type StorageReport,
  type UnavailableFigure,
} from "../report-document";

/** The parts of the report, in the order they are read. */
export const REPORT_STEPS = [
  "the database and the media tables",
  "the top uploaders",
  "the top origins",
  "the largest rooms",
] as const;
export type ReportStep = (typeof REPORT_STEPS)[number];

export interface ReportSources {
  main: DatabaseHandle;
  /** The state database, when it is split off. */
  state?: DatabaseHandle;
  /** How the report names them: as given, any password masked. */
  source: StorageReport["source"];
}

/** Reads the whole report; `onStep` hears each part as it begins. */
export async function readStorageReport(
  sources: ReportSources,
  onStep: (step: ReportStep) => void = () => undefined,
): Promise<StorageReport> {
  const { main, state } = sources;
  const media = await inSnapshot(main.db, main.dialect, async (trx) => {
    onStep("the database and the media tables");
    const overview = await readStorageOverview(
      { db: trx, dialect: main.dialect },
      state ? { state } : {},
    );
    onStep("the top uploaders");
    const uploadersPage = await createUsersMediaStore(main.dialect).page(trx, {
      from: 0,
      limit: REPORT_TOP,
      fromTs: 0,
      untilTs: undefined,
      orderBy: "media_length",
      direction: "b",
      searchTerm: undefined,
    });
    const uploaders = {
      users: await wholePage(uploadersPage.users),
      total: uploadersPage.total,
    };
    onStep("the top origins");
    const origins = await readRemoteOrigins(trx, main.dialect, {
      from: 0,
      limit: REPORT_TOP,
      orderBy: "media_length",
      direction: "b",
      searchTerm: undefined,
    });
    return { overview, uploaders, origins };
  });

  const unavailable = unavailableOverviewFigures(media.overview);
  const notes: string[] = [];
  let largestRooms: StorageReport["largest_rooms"] = null;
  onStep("the largest rooms");
  if (main.dialect === "postgres" && (state?.dialect ?? "postgres") === "postgres") {
    const store = createRoomsStore({
      sampleStatementTimeoutMs: DEFAULT_SAMPLE_STATEMENT_TIMEOUT_MS,
    });
    const estimate = await store.largest("planner", main.db, state?.db ?? main.db);
    largestRooms = { rooms: estimate.rooms };
    notes.push(...estimate.hiddenTables.map((hidden) => hiddenTableMessage(hidden, "planner")));
  } else {
    unavailable.unshift({
      figure: "largest_rooms",
      reason:
        "Synapse's estimate of room sizes reads PostgreSQL's planner statistics; SQLite keeps none",
    });
  }
  return {
    report_version: STORAGE_REPORT_VERSION,
    source: sources.source,
    overview: media.overview,
    largest_rooms: largestRooms,
    top_uploaders: media.uploaders,
    top_origins: { origins: media.origins.origins, total: media.origins.total },
    unavailable,
    notes,
  };
}

// Why the overview marks a figure unavailable, by the figure's last name in its path.
const UNAVAILABLE_BECAUSE: Record<string, string> = {
  largest_tables:
    "this SQLite was built without the dbstat virtual table (SQLITE_ENABLE_DBSTAT_VTAB), the only way SQLite tells which table a page belongs to",
  toast_bytes:
    "SQLite has no TOAST: long values live in overflow pages, counted in each table's own bytes",
};

/** The figures the overview itself says this database cannot give. */
function unavailableOverviewFigures(overview: StorageOverview): UnavailableFigure[] {
  return Object.entries(overview.accuracy)
    .filter(([, accuracy]) => accuracy === "unavailable")
    .map(([path]) => ({
      figure: `overview.${path}`,
      reason: UNAVAILABLE_BECAUSE[path.split(".").pop() ?? ""] ?? "see the overview's notes",
    }));
}

/** A page's users as one list: a page of ten is read whole, but the type allows batches. */
async function wholePage(
  users: UserMediaUsage[] | AsyncIterable<readonly UserMediaUsage[]>,
): Promise<UserMediaUsage[]> {
  if (Array.isArray(users)) return users;
  const all: UserMediaUsage[] = [];
  for await (const batch of users) all.push(...batch);
  return all;
}
