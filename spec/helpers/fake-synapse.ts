// A small HTTP server that answers Synapse's whoami and user-admin endpoints as Synapse does,
// with its own tokens, the Matrix Authentication Service's scopes or an appservice's, and
// that can be told to misbehave: slow, failing, malformed, redirecting.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { captureSecret } from "./test-run";

export const SERVER_NAME = "fake.test";
export const WHOAMI = "/_matrix/client/v3/account/whoami";
export const MAS_ADMIN_SCOPE = "urn:synapse:admin:*";

/** Who a token belongs to, and how Synapse decides whether that is an admin. */
export type TokenOwner =
  | {
      /** Synapse's own token (or an appservice's): admin is the users.admin flag. */
      auth: "synapse" | "appservice";
      userId: string;
      admin: boolean;
      guest?: boolean;
    }
  | {
      /** A MAS token: admin is the scope; users.admin stays as Synapse stored it. */
      auth: "mas";
      userId: string;
      scope: string[];
      storedAdmin: boolean;
    }
  | {
      /** A token Synapse refuses with 401 and this body. */
      auth: "refused";
      body: { errcode: string; error: string; soft_logout?: boolean };
    };

/** An answer Synapse should not give: replaces the endpoint's own. */
export interface Fault {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface FakeSynapse {
  url: string;
  tokens: Map<string, TokenOwner>;
  /** Faults by endpoint; cleared by `reset()`. */
  faults: { whoami?: Fault; admin?: Fault };
  /** The path of every request received, in order (never the token). */
  calls: string[];
  /** Requests received without an Authorization header, by path. */
  anonymous: string[];
  reset(): void;
  close(): Promise<void>;
}

/** Starts the fake on a free port. Every token given to it is registered for the log audit. */
export async function startFakeSynapse(
  tokens: Record<string, TokenOwner> = {},
): Promise<FakeSynapse> {
  const fake: FakeSynapse = {
    url: "",
    tokens: new Map(),
    faults: {},
    calls: [],
    anonymous: [],
    reset() {
      this.faults = {};
      this.calls.length = 0;
      this.anonymous.length = 0;
    },
    close: async () => undefined,
  };
  const tokenMap = fake.tokens;
  const set = tokenMap.set.bind(tokenMap);
  tokenMap.set = (token, owner) => {
    captureSecret(token);
    return set(token, owner);
  };
  for (const [token, owner] of Object.entries(tokens)) tokenMap.set(token, owner);

  const server: Server = createServer((req, res) => {
    void answer(fake, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return fake;
}

const ADMIN_PATH = /^\/_synapse\/admin\/v1\/users\/([^/]+)\/admin$/;

async function answer(fake: FakeSynapse, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? "").split("?")[0] ?? "";
  fake.calls.push(path);
  if (req.headers.authorization === undefined) fake.anonymous.push(path);
  const adminMatch = ADMIN_PATH.exec(path);
  const endpoint = path === WHOAMI ? "whoami" : adminMatch ? "admin" : undefined;
  if (path === "/_matrix/client/versions") return json(res, 200, { versions: ["v1.11"] });
  if (endpoint === undefined)
    return json(res, 404, { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" });

  const fault = fake.faults[endpoint];
  if (fault?.delayMs) await new Promise((done) => setTimeout(done, fault.delayMs));
  if (fault && (fault.status !== undefined || fault.body !== undefined)) {
    res.writeHead(fault.status ?? 200, { "Content-Type": "application/json", ...fault.headers });
    res.end(fault.body ?? "");
    return;
  }

  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
  if (token === undefined)
    return json(res, 401, { errcode: "M_MISSING_TOKEN", error: "Missing access token" });
  const owner = fake.tokens.get(token);
  if (owner === undefined) {
    return json(res, 401, {
      errcode: "M_UNKNOWN_TOKEN",
      error: "Invalid access token passed.",
      soft_logout: false,
    });
  }
  if (owner.auth === "refused") return json(res, 401, owner.body);
  const guest = owner.auth !== "mas" && owner.guest === true;

  if (endpoint === "whoami") {
    return json(res, 200, {
      user_id: owner.userId,
      is_guest: guest,
      ...(owner.auth === "appservice" ? {} : { device_id: "FAKEDEVICE" }),
    });
  }
  // The admin API: Synapse's own admin check on the requester, then the target's stored flag.
  if (guest)
    return json(res, 403, {
      errcode: "M_GUEST_ACCESS_FORBIDDEN",
      error: "Guest access not allowed",
    });
  const requesterIsAdmin =
    owner.auth === "mas" ? owner.scope.includes(MAS_ADMIN_SCOPE) : owner.admin;
  if (!requesterIsAdmin)
    return json(res, 403, { errcode: "M_FORBIDDEN", error: "You are not a server admin" });
  const target = decodeURIComponent(adminMatch?.[1] ?? "");
  if (!target.endsWith(`:${SERVER_NAME}`)) {
    return json(res, 400, {
      errcode: "M_UNKNOWN",
      error: "Only local users can be admins of this homeserver",
    });
  }
  const stored = [...fake.tokens.values()].find(
    (candidate) => candidate.auth !== "refused" && candidate.userId === target,
  );
  const storedAdmin =
    stored === undefined || stored.auth === "refused"
      ? false
      : stored.auth === "mas"
        ? stored.storedAdmin
        : stored.admin;
  return json(res, 200, { admin: storedAdmin });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}
