// Every endpoint the router serves, in one list: the router mounts them and the OpenAPI
// document describes them from here, so neither can forget one.

import type { Endpoint } from "./endpoint";
import { largestMediaEndpoint } from "./largest-media";
import { remoteOriginsEndpoint } from "./remote-origins";
import { largestRoomsEndpoint } from "./rooms";
import { storageOverviewEndpoint } from "./storage-overview";
import { usersMediaEndpoint } from "./users-media";

/** Synapse's own statistics endpoints, at Synapse's paths. */
export const SYNAPSE_ENDPOINTS: readonly Endpoint[] = [usersMediaEndpoint, largestRoomsEndpoint];

/**
 * This package's own endpoints, under its namespace (see namespace.ts); the router's
 * `storageEndpoints: false` leaves them out.
 */
export const EXTENSION_ENDPOINTS: readonly Endpoint[] = [
  storageOverviewEndpoint,
  remoteOriginsEndpoint,
  largestMediaEndpoint,
];

export type { Endpoint, EndpointContext, EndpointContract, EndpointHandler } from "./endpoint";
export { EXTENSION_NAMESPACE, EXTENSION_PREFIX } from "./namespace";
