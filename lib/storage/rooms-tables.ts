// Synapse's room tables that the largest-rooms estimate reads, and the shapes both estimators
// return. The table names are the only identifiers the estimators take from this package.

/** Tables of Synapse's main database that hold a `room_id` per row, in Synapse's order. */
export const MAIN_ROOM_TABLES = [
  "event_json",
  "events",
  "event_search",
  "event_edges",
  "event_push_actions",
  "stream_ordering_to_exterm",
] as const;

/** The room table of Synapse's state database (the main one unless it was split off). */
export const STATE_ROOM_TABLES = ["state_groups_state"] as const;

export type RoomTable = (typeof MAIN_ROOM_TABLES)[number] | (typeof STATE_ROOM_TABLES)[number];

/** How many rooms the endpoint lists, as Synapse does. */
export const LARGEST_ROOMS_LIMIT = 10;

export interface RoomSize {
  room_id: string;
  /** Bytes, a JSON integer. */
  estimated_size: number;
}

/**
 * A room table that exists but whose statistics (planner) or rows (sample) PostgreSQL hides
 * from the role the router connects as, so it silently contributes nothing.
 */
export interface HiddenTable {
  schema: string;
  table: RoomTable;
  /** The role that lacks the access: `current_user` of the connection. */
  role: string;
  /** `privilege`: no SELECT on the table (or its room_id); `row_security`: RLS applies. */
  reason: "privilege" | "row_security";
}

export interface RoomsEstimate {
  /** Largest first, ties by room_id in byte order; at most LARGEST_ROOMS_LIMIT. */
  rooms: RoomSize[];
  hiddenTables: HiddenTable[];
}
