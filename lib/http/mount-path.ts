// Synapse matches its paths case-sensitively; an express host app mounts case-insensitively
// unless it sets "case sensitive routing". The router's own paths are exact either way; this
// keeps a case-insensitive mount from letting `/_SYNAPSE/ADMIN/...` through to it.

import type { NextFunction, Request, Response } from "express";

const SYNAPSE_ADMIN_PREFIX = "/_synapse/admin";

/**
 * Whether the router was reached through Synapse's admin prefix spelt in another case, which
 * Synapse answers 404: `/_SYNAPSE/ADMIN`, `/_Synapse/admin`, also under a host's own prefix.
 */
export function isMisspeltSynapsePrefix(baseUrl: string): boolean {
  const tail = baseUrl.slice(-SYNAPSE_ADMIN_PREFIX.length);
  return tail !== SYNAPSE_ADMIN_PREFIX && tail.toLowerCase() === SYNAPSE_ADMIN_PREFIX;
}

/** Leaves such a request to the host app (its 404), as any path the router does not serve. */
export function refuseMisspeltPrefix(req: Request, _res: Response, next: NextFunction): void {
  if (isMisspeltSynapsePrefix(req.baseUrl)) next("router");
  else next();
}
