// Reads `--listen`: `host:port`, `[v6]:port`, `:port` or a bare port. A port alone binds
// 127.0.0.1, as the default does: listening on every interface takes saying 0.0.0.0 or [::].

import { isIPv6 } from "node:net";
import { usageError } from "./errors";

// A host name or an IPv4 address: dot-separated labels of letters, digits and inner hyphens.
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_HOST = "127.0.0.1";
/** Synapse's own port, so admin tools' defaults reach the sidecar. */
export const DEFAULT_PORT = 8008;

export function parseListen(
  value: string | undefined,
  envPort: string | undefined,
  option = "--listen",
): ListenAddress {
  let host = DEFAULT_HOST;
  let portText = envPort ?? String(DEFAULT_PORT);
  if (value !== undefined) {
    const match = /^(?:\[([^\]]+)\]|([^:[\]]*))?(?::(\d+))?$/.exec(value);
    if (match && /^\d+$/.test(value)) {
      portText = value;
    } else if (match) {
      host = match[1] ?? (match[2] || DEFAULT_HOST);
      if (match[3] !== undefined) portText = match[3];
    }
    const validHost = match?.[1] !== undefined ? isIPv6(match[1]) : HOSTNAME.test(host);
    if (!match || !validHost) {
      throw usageError(`${option} must be host:port, [ipv6]:port or a port, not "${value}"`);
    }
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw usageError(`the port must be a number from 0 to 65535, not "${portText}"`);
  }
  return { host, port };
}
