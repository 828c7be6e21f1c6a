// Every endpoint the router serves, in one list: the router mounts them and the OpenAPI
// document describes them from here, so neither can forget one.

import type { Endpoint } from "./endpoint";
import { largestRoomsEndpoint } from "./rooms";
import { usersMediaEndpoint } from "./users-media";

/** Synapse's own statistics endpoints, at Synapse's paths. */
export const SYNAPSE_ENDPOINTS: readonly Endpoint[] = [usersMediaEndpoint, largestRoomsEndpoint];

export type { Endpoint, EndpointContext, EndpointContract, EndpointHandler } from "./endpoint";
