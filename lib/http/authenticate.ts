// Admin check in front of every endpoint: token, then `authCheck`, then the guest flag, then the
// admin flag. It runs before any parameter is read, so a 401/403 always wins over a 400.

import type { Request } from "express";
import {
  guestAccessForbidden,
  InternalFailure,
  MatrixError,
  notServerAdmin,
  unknownToken,
} from "../errors";
import type { AuthCheck, Requester } from "../types";
import { extractAccessToken } from "./access-token";
import type { RawQuery } from "./query-string";

/**
 * The admin who sent the request. `onToken` learns the token as soon as it is found, so that
 * an error later on can keep it out of the log.
 */
export async function authenticateAdmin(
  req: Request,
  query: RawQuery,
  authCheck: AuthCheck,
  onToken: (token: string) => void,
): Promise<Requester> {
  const token = extractAccessToken(req, query);
  onToken(token);
  // No token is the empty string: skip the host's check, which might not expect it.
  if (token === "") throw unknownToken();

  let result: unknown;
  try {
    result = await authCheck(token, req);
  } catch (error) {
    // A deliberate answer of a built-in check (its 401, 403 or 503), or a built-in check saying
    // what failed (its token lookup); a host's check that throws says only that it threw.
    if (error instanceof MatrixError || error instanceof InternalFailure) throw error;
    throw new InternalFailure("authCheck threw", {}, error);
  }
  if (result === null) throw unknownToken();
  if (!isRequester(result)) {
    // The host's callback is not trusted to be right: a truthy `admin: "false"` must not pass.
    throw new InternalFailure(
      "authCheck must resolve to { userId: string, admin: boolean, guest?: boolean } or null",
      { got: describeShape(result) },
    );
  }
  // Synapse refuses a guest before anything else: a guest flagged admin is still a guest.
  if (result.guest === true) throw guestAccessForbidden();
  if (!result.admin) throw notServerAdmin();
  return result;
}

function isRequester(value: unknown): value is Requester {
  const candidate = value as Partial<Record<keyof Requester, unknown>> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.userId === "string" &&
    typeof candidate.admin === "boolean" &&
    (candidate.guest === undefined || typeof candidate.guest === "boolean")
  );
}

function describeShape(value: unknown): string {
  if (value === null || typeof value !== "object") return typeof value;
  return `object with keys ${Object.keys(value).sort().join(", ") || "(none)"}`;
}
