// An authCheck that asks Synapse itself whether a token belongs to a server admin, for
// deployments whose tokens are not in Synapse's access_tokens table (the Matrix Authentication
// Service) or where the service does not share Synapse's database at all.

import { Errcode, MatrixError, notServerAdmin, serviceUnavailable } from "./errors";
import { SharedChecks, tokenKey } from "./http/token-cache";
import { consoleLogger, type Logger } from "./logger";
import type { AuthCheck, Requester } from "./types";

/** Options of `synapseDelegatedAuth`. */
export interface SynapseDelegatedAuthOptions {
  /**
   * Where Synapse serves the client-server API, such as `http://localhost:8008` or
   * `https://matrix.example.org`: `/_matrix/...` and `/_synapse/admin/...` are appended to it.
   * Required.
   */
  baseUrl: string | URL;
  /**
   * How long, in milliseconds, a token Synapse admitted is trusted without asking again. This
   * is the revocation delay: a token logged out, or an admin demoted, keeps access for up to
   * this long. 0 asks Synapse on every request. Default: `60000`.
   */
  cacheTtlMs?: number;
  /** How many admitted tokens are remembered at once; the least recently used go first. Default: `10000`. */
  cacheSize?: number;
  /**
   * How long, in milliseconds, the check may wait for Synapse (both of its requests together)
   * before the request is answered 503. Default: `5000`.
   */
  timeoutMs?: number;
  /** The fetch implementation. Default: Node's built-in `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Where Synapse's failures to answer are reported (never with the token). Default: stderr. */
  logger?: Logger;
}

export const DEFAULT_DELEGATED_CACHE_TTL_MS = 60_000;
export const DEFAULT_DELEGATED_CACHE_SIZE = 10_000;
export const DEFAULT_DELEGATED_TIMEOUT_MS = 5_000;

const WHOAMI_PATH = "/_matrix/client/v3/account/whoami";
const adminPath = (userId: string): string =>
  `/_synapse/admin/v1/users/${encodeURIComponent(userId)}/admin`;
/** More than any answer of these two endpoints: a longer body is not Synapse's. */
const MAX_BODY_BYTES = 64 * 1024;
const RETRY_AFTER_SECONDS = 5;
// A header value can carry only these; no token Synapse issued holds anything else.
const SENDABLE_TOKEN = /^[\x21-\x7e]+$/;
// Synapse answers 401 with one of these; any other errcode is reported as an unknown token.
const UNAUTHORIZED_ERRCODES: ReadonlySet<string> = new Set([
  Errcode.MISSING_TOKEN,
  Errcode.UNKNOWN_TOKEN,
  Errcode.USER_LOCKED,
]);

const knownOptions: Record<keyof Required<SynapseDelegatedAuthOptions>, true> = {
  baseUrl: true,
  cacheTtlMs: true,
  cacheSize: true,
  timeoutMs: true,
  fetch: true,
  logger: true,
};

/**
 * Synapse's 401, passed on as it came: its errcode, its message, and its `soft_logout` flag
 * (clients that read it keep the session and log in again rather than forgetting the device).
 */
class SynapseUnauthorized extends MatrixError {
  constructor(
    errcode: Errcode,
    message: string,
    readonly softLogout: boolean | undefined,
  ) {
    super(401, errcode, message);
  }

  override toJSON() {
    return {
      ...super.toJSON(),
      ...(this.softLogout === undefined ? {} : { soft_logout: this.softLogout }),
    };
  }
}

/** Synapse could not be asked, or answered something that is not Synapse's answer. */
class UpstreamFailure extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = "UpstreamFailure";
  }
}

/** Which of the two requests to Synapse, for the log. */
type Step = "whoami" | "admin";

interface Answer {
  status: number;
  /** The parsed JSON body; `undefined` when the body is not JSON. */
  body: unknown;
}

/**
 * An authCheck that asks Synapse: `GET /_matrix/client/v3/account/whoami` with the token, then
 * `GET /_synapse/admin/v1/users/{user_id}/admin` with it. The second request passes exactly when
 * Synapse's own admin check does, whatever Synapse authenticates with: its own tokens, the
 * Matrix Authentication Service (admin by the `urn:synapse:admin:*` scope) or an appservice's.
 *
 * Synapse's 401 is answered 401 with its errcode; a guest 403 M_GUEST_ACCESS_FORBIDDEN; anyone
 * else Synapse refuses 403 M_FORBIDDEN. When Synapse cannot be reached, is too slow, or answers
 * anything else, the request is answered 503 M_UNKNOWN with Retry-After: never access.
 * Admitted tokens are remembered for `cacheTtlMs`, by their SHA-256 digest.
 */
export function synapseDelegatedAuth(options: SynapseDelegatedAuthOptions): AuthCheck {
  const resolved = resolveDelegatedAuthOptions(options);
  const { baseUrl, timeoutMs, fetch, logger } = resolved;
  const checks = new SharedChecks<Requester>(resolved.cacheTtlMs, resolved.cacheSize);

  const ask = async (
    step: Step,
    path: string,
    token: string,
    signal: AbortSignal,
  ): Promise<Answer> => {
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        signal,
        // Following a redirect would hand the token to wherever it points.
        redirect: "error",
      });
    } catch (error) {
      throw new UpstreamFailure(
        signal.aborted ? "Synapse did not answer in time" : "Synapse could not be reached",
        { step, ...(signal.aborted ? { timeoutMs } : networkFailure(error, token)) },
      );
    }
    return { status: response.status, body: await readJson(response, step, signal, timeoutMs) };
  };

  const check = async (token: string): Promise<Requester> => {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const whoami = await ask("whoami", WHOAMI_PATH, token, signal);
      if (whoami.status !== 200) throw refusal(whoami, "whoami");
      const identity = whoamiIdentity(whoami.body);
      if (identity === undefined) {
        throw new UpstreamFailure("Synapse's whoami answer has no user_id", { step: "whoami" });
      }
      if (identity.isGuest) throw guestForbidden();
      const admin = await ask("admin", adminPath(identity.userId), token, signal);
      if (admin.status !== 200) throw refusal(admin, "admin");
      // The answer's `admin` is the stored flag of the user, which the Matrix Authentication
      // Service does not keep: it is the 200 itself that says Synapse's admin check passed.
      if (typeof (admin.body as { admin?: unknown } | undefined)?.admin !== "boolean") {
        throw new UpstreamFailure("Synapse's admin answer has no admin flag", { step: "admin" });
      }
      return { userId: identity.userId, admin: true };
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      try {
        logger.warn(error.details, `cannot check an access token: ${error.message}`);
      } catch {
        // The host's logger failing must not turn a 503 into a 500.
      }
      throw serviceUnavailable(
        "The homeserver could not check the access token; try again shortly",
        RETRY_AFTER_SECONDS,
      );
    }
  };

  return (accessToken) => {
    if (!SENDABLE_TOKEN.test(accessToken)) return null;
    return checks.lookup(tokenKey(accessToken), () => check(accessToken));
  };
}

/** What Synapse's refusal means here; anything but a 401 or 403 is not an answer about the token. */
function refusal(answer: Answer, step: Step): Error {
  const errcode = matrixField(answer.body, "errcode");
  if (answer.status === 401) {
    const softLogout = (answer.body as { soft_logout?: unknown } | undefined)?.soft_logout;
    return new SynapseUnauthorized(
      errcode !== undefined && UNAUTHORIZED_ERRCODES.has(errcode)
        ? (errcode as Errcode)
        : Errcode.UNKNOWN_TOKEN,
      matrixField(answer.body, "error") ?? "Unrecognised access token.",
      typeof softLogout === "boolean" ? softLogout : undefined,
    );
  }
  if (answer.status === 403) {
    return errcode === Errcode.GUEST_ACCESS_FORBIDDEN ? guestForbidden() : notServerAdmin();
  }
  return new UpstreamFailure(`Synapse answered ${step} with HTTP ${answer.status}`, {
    step,
    status: answer.status,
    ...(errcode === undefined ? {} : { errcode }),
  });
}

const guestForbidden = (): MatrixError =>
  new MatrixError(403, Errcode.GUEST_ACCESS_FORBIDDEN, "Guest access not allowed");

function whoamiIdentity(body: unknown): { userId: string; isGuest: boolean } | undefined {
  const { user_id: userId, is_guest: isGuest } = (body ?? {}) as Record<string, unknown>;
  // A Matrix user ID: @localpart:server.
  if (typeof userId !== "string" || !/^@[^:]+:.+$/.test(userId) || userId.length > 255) {
    return undefined;
  }
  // Synapse before 1.53 leaves `is_guest` out; its admin check refuses guests all the same.
  if (isGuest !== undefined && typeof isGuest !== "boolean") return undefined;
  return { userId, isGuest: isGuest === true };
}

/** A short string field of a Matrix error body, or undefined. */
function matrixField(body: unknown, name: "errcode" | "error"): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" && value.length > 0 && value.length <= 500 ? value : undefined;
}

/** The body as JSON, read up to MAX_BODY_BYTES; `undefined` when it is not JSON. */
async function readJson(
  response: Response,
  step: Step,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = response.body?.getReader();
  try {
    for (;;) {
      const { done, value } = reader ? await reader.read() : { done: true, value: undefined };
      if (done) break;
      length += value.byteLength;
      if (length > MAX_BODY_BYTES) {
        await reader?.cancel().catch(() => undefined);
        throw new UpstreamFailure("Synapse's answer is too long", {
          step,
          status: response.status,
        });
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof UpstreamFailure) throw error;
    throw new UpstreamFailure(
      signal.aborted ? "Synapse did not answer in time" : "Synapse's answer was cut short",
      { step, ...(signal.aborted ? { timeoutMs } : { status: response.status }) },
    );
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * What to log of a failed fetch: undici reports `TypeError: fetch failed` with the reason
 * (ECONNREFUSED, ENOTFOUND, a TLS error) as its cause. Read by shape, not by class: the error
 * may come from another realm, or from a host's own fetch.
 */
function networkFailure(error: unknown, token: string): Record<string, unknown> {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const reason = (typeof cause === "object" && cause !== null ? cause : error) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
  } | null;
  const text = (value: unknown): string | undefined =>
    typeof value === "string"
      ? value.split("\n", 1)[0]?.slice(0, 200).split(token).join("[redacted]")
      : undefined;
  return {
    ...(text(reason?.name) === undefined ? {} : { error: text(reason?.name) }),
    ...(text(reason?.code) === undefined ? {} : { code: text(reason?.code) }),
    ...(text(reason?.message) === undefined ? {} : { message: text(reason?.message) }),
  };
}

interface ResolvedDelegatedAuthOptions {
  baseUrl: string;
  cacheTtlMs: number;
  cacheSize: number;
  timeoutMs: number;
  fetch: typeof globalThis.fetch;
  logger: Logger;
}

function resolveDelegatedAuthOptions(
  options: SynapseDelegatedAuthOptions,
): ResolvedDelegatedAuthOptions {
  const fail = (message: string): never => {
    throw new TypeError(`synapseDelegatedAuth: ${message}`);
  };
  if (typeof options !== "object" || options === null) fail("options must be an object");
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(knownOptions, key)) fail(`unknown option "${key}"`);
  }
  const { baseUrl, cacheTtlMs, cacheSize, timeoutMs, fetch, logger } = options;
  if (baseUrl === undefined) fail('option "baseUrl" is required');
  let url: URL | undefined;
  try {
    url = new URL(baseUrl);
  } catch {
    fail('option "baseUrl" must be an http(s) URL');
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return fail('option "baseUrl" must be an http(s) URL');
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    fail('option "baseUrl" must not carry credentials, a query or a fragment');
  }
  const wholeNumber = (name: string, value: number | undefined, min: number): void => {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) {
      fail(`option "${name}" must be an integer of at least ${min}`);
    }
  };
  wholeNumber("cacheTtlMs", cacheTtlMs, 0);
  wholeNumber("cacheSize", cacheSize, 1);
  wholeNumber("timeoutMs", timeoutMs, 1);
  if (fetch !== undefined && typeof fetch !== "function") fail('option "fetch" must be a function');
  if (
    logger !== undefined &&
    !(typeof logger === "object" && logger !== null && typeof logger.warn === "function")
  ) {
    fail('option "logger" must have a warn method');
  }
  return {
    baseUrl: `${url.origin}${url.pathname.replace(/\/+$/, "")}`,
    cacheTtlMs: cacheTtlMs ?? DEFAULT_DELEGATED_CACHE_TTL_MS,
    cacheSize: cacheSize ?? DEFAULT_DELEGATED_CACHE_SIZE,
    timeoutMs: timeoutMs ?? DEFAULT_DELEGATED_TIMEOUT_MS,
    fetch: fetch ?? globalThis.fetch,
    logger: logger ?? consoleLogger,
  };
}
