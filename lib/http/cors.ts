// Synapse's CORS headers: admin UIs such as Ketesa are browser apps served from another origin.

import type { ServerResponse } from "node:http";

export const CORS_HEADERS: ReadonlyArray<[string, string]> = [
  ["Access-Control-Allow-Origin", "*"],
  ["Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS"],
  ["Access-Control-Allow-Headers", "X-Requested-With, Content-Type, Authorization, Date"],
];

export function setCorsHeaders(res: ServerResponse): void {
  for (const [name, value] of CORS_HEADERS) res.setHeader(name, value);
}
