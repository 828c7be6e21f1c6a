// What an endpoint is: its documented contract (path, parameters, answer), from which the
// router mounts it and the OpenAPI document describes it, and the handler that serves it.

import type { RequestScope } from "../execution/scope";
import type { RawQuery } from "../http/query-string";
import type { RequestLogContext } from "../http/request-context";
import type { ResolvedOptions } from "../options";

/** What a handler gets besides the parameters. */
export interface EndpointContext {
  /**
   * Aborted when the client goes away before its answer is complete: work still running for
   * it is wasted and should stop.
   */
  signal: AbortSignal;
  /** What a log line about this request starts with: its id, method and full path. */
  logContext(): RequestLogContext;
  /**
   * Where the request's statements run: `scope.transaction(db)` is the request's one
   * transaction on `db`, begun once the request is admitted to it.
   */
  scope: RequestScope;
}

/**
 * Serves one request whose requester is already known to be an admin: the body to answer 200
 * with (a StreamedJsonObject is written as it is read, inside the request's scope).
 */
export type EndpointHandler = (query: RawQuery, context: EndpointContext) => Promise<unknown>;

/** A query parameter schema as the OpenAPI document reads it. */
export interface ParameterSchema {
  type: string | readonly string[];
  description?: string;
  [keyword: string]: unknown;
}

/** What the OpenAPI document says of an endpoint, and the path the router serves it on. */
export interface EndpointContract {
  /** Relative to where the router is mounted (normally `/_synapse/admin`). */
  path: string;
  operationId: string;
  summary: string;
  /** Every parameter it reads: the JSON schema that validates them. */
  querySchema: { properties: Record<string, ParameterSchema> };
  /** The 200 body: a name for `components.schemas`, its schema and a description. */
  response: { name: string; schema: object; description: string };
  /** What a 400 means here. */
  badRequest: string;
}

export interface Endpoint {
  contract: EndpointContract;
  /** The handler for one router, made once when the router is created. */
  createHandler(options: ResolvedOptions): EndpointHandler;
}
