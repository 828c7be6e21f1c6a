// The admin API paths the specs call, as a client sees them (the router mounted at
// /_synapse/admin, as Synapse serves them).

export const USERS_MEDIA = "/_synapse/admin/v1/statistics/users/media";
export const LARGEST_ROOMS = "/_synapse/admin/v1/statistics/database/rooms";
