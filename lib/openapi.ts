// The OpenAPI 3.1 document of the endpoints, built from the same JSON schemas that validate the
// parameters, so the document cannot describe a parameter the router does not read.

import { EXTENSION_ENDPOINTS, SYNAPSE_ENDPOINTS, type EndpointContract } from "./endpoints";
import { matrixErrorSchema } from "./responses";

export interface OpenApiOptions {
  /** Where the router is mounted. Default: `/_synapse/admin`. */
  mountPath?: string;
  /** The version to state in `info.version`. */
  version?: string;
  /** Describe the package's own storage endpoints too, as the router serves them. Default: `true`. */
  storageEndpoints?: boolean;
}

/** OpenAPI query parameters from an endpoint's parameter schema. */
function queryParameters(schema: EndpointContract["querySchema"]): object[] {
  return Object.entries(schema.properties).map(([name, property]) => {
    const { description, nullable: _nullable, ...rest } = property;
    // A `$data` rule (until_ts > from_ts) is ajv's extension, not JSON Schema: its description
    // says it in words instead.
    const plain = Object.fromEntries(
      Object.entries(rest).filter(
        ([, value]) => !(typeof value === "object" && value !== null && "$data" in value),
      ),
    );
    return { name, in: "query", required: false, description, schema: plain };
  });
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/MatrixError" } } },
});

const ERROR_RESPONSES = {
  "401": errorResponse("M_MISSING_TOKEN (no token, or given twice) or M_UNKNOWN_TOKEN"),
  "403": errorResponse(
    "M_GUEST_ACCESS_FORBIDDEN: the requester is a guest (refused before the admin check); M_FORBIDDEN: the requester is not a server admin",
  ),
  "405": errorResponse("M_UNRECOGNIZED: a method other than GET, HEAD or OPTIONS"),
  "500": errorResponse("M_UNKNOWN: an unexpected failure; details are in the server's log"),
  "503": {
    ...errorResponse(
      "M_UNKNOWN: too many requests already wait for the database, or it has no free connection; try again after Retry-After",
    ),
    headers: {
      "Retry-After": {
        description: "Seconds to wait before trying again",
        schema: { type: "integer", minimum: 1 },
      },
    },
  },
};

/** The OpenAPI 3.1 document describing the router's endpoints under `mountPath`. */
export function buildOpenApiDocument(options: OpenApiOptions = {}): Record<string, unknown> {
  const mount = options.mountPath ?? "/_synapse/admin";
  const endpoints = [
    ...SYNAPSE_ENDPOINTS,
    ...(options.storageEndpoints === false ? [] : EXTENSION_ENDPOINTS),
  ].map((endpoint) => endpoint.contract);
  return {
    openapi: "3.1.0",
    info: {
      title: "Synapse admin API: statistics",
      version: options.version ?? "1",
      description:
        "Users' media usage and the largest rooms by database size, as Synapse's admin API serves them; and where the disk goes (the storage overview, remote media by origin, the largest media), under this package's own namespace.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    security: [{ accessTokenHeader: [] }, { accessTokenQuery: [] }],
    components: {
      securitySchemes: {
        accessTokenHeader: {
          type: "http",
          scheme: "bearer",
          description: "An admin's access token.",
        },
        accessTokenQuery: { type: "apiKey", in: "query", name: "access_token" },
      },
      schemas: {
        MatrixError: matrixErrorSchema,
        ...Object.fromEntries(
          endpoints.map(({ response }) => [response.name, response.schema] as const),
        ),
      },
    },
    paths: Object.fromEntries(
      endpoints.map((endpoint) => [`${mount}${endpoint.path}`, { get: operation(endpoint) }]),
    ),
  };
}

function operation(endpoint: EndpointContract): object {
  return {
    operationId: endpoint.operationId,
    summary: endpoint.summary,
    parameters: queryParameters(endpoint.querySchema),
    responses: {
      "200": {
        description: endpoint.response.description,
        content: {
          "application/json": {
            schema: { $ref: `#/components/schemas/${endpoint.response.name}` },
          },
        },
      },
      "400": errorResponse(endpoint.badRequest),
      ...ERROR_RESPONSES,
    },
  };
}
