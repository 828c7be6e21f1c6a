// The admin API paths the specs call, as a client sees them (the router mounted at
// /_synapse/admin, as Synapse serves them).

export const USERS_MEDIA = "/_synapse/admin/v1/statistics/users/media";
export const LARGEST_ROOMS = "/_synapse/admin/v1/statistics/database/rooms";

/** This package's own endpoints, under its namespace. */
export const STORAGE_OVERVIEW =
  "/_synapse/admin/io.github.synapse-admin-statistics/v1/storage/overview";
export const REMOTE_ORIGINS =
  "/_synapse/admin/io.github.synapse-admin-statistics/v1/storage/remote_media/origins";
export const LARGEST_MEDIA =
  "/_synapse/admin/io.github.synapse-admin-statistics/v1/storage/media/largest";
