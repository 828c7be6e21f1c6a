// What exists of the storage part of the summary, as each database's implementation reads it
// from its catalogue.

export interface StorageSummaryState {
  /** What its tables' names take before them in a statement: `schema.` on PostgreSQL. */
  prefix: string;
  /** All four media tables it follows exist: without them there is nothing to install. */
  sourcesPresent: boolean;
  /** Every object of the storage part that exists, by name. */
  objects: string[];
  /** Its three tables exist. */
  tables: boolean;
  /** This session may read them (always true on SQLite). */
  readable: boolean;
  /** Its tables, keys or index that are missing (or, for the index, invalid). */
  missing: string[];
  /** Its triggers that are missing, or present but disabled. */
  missingTriggers: string[];
  /** Its triggers that exist, with the table each is on. */
  dropTriggers: Array<{ name: string; table: string }>;
}

/** Nothing of it exists: install creates it whole. */
export const isAbsent = (state: StorageSummaryState): boolean => state.objects.length === 0;

/** Every part is there and enabled: it is exact, and the endpoints may read it. */
export const isComplete = (state: StorageSummaryState): boolean =>
  state.tables && state.missing.length === 0 && state.missingTriggers.length === 0;
