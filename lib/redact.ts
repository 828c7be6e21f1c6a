// What of a request target or a message may reach a log: every secret replaced, the rest kept
// as it came, so a log line still says what was asked.
//
// Synapse's redact_uri masks the values of `access_token` and `client_secret` in the query
// string. Clients also send tokens under names spelled otherwise (`ACCESS_TOKEN`,
// `access_token[]`), after a `;` (which Synapse's query parser splits on too), with the `=`
// percent-encoded, or as the value of a parameter nobody reads: so every parameter whose name
// says it holds a secret, and every value shaped like a token, is masked, in the query and in
// the path.

export const REDACTED = "[redacted]";

// A name that says its value is a secret, in any case: access_token, refresh_token,
// client_secret, password, api_key, sig...
const SECRET_NAME = /token|secret|passw|pwd|auth|credential|key|signature|session|cookie/i;

// Token shapes: Synapse's access and refresh tokens (syt_, syr_), Matrix Authentication
// Service's (mat_, mar_, mct_, mcr_), macaroons (older Synapse: base64 of "0010location...")
// and JWTs (base64 of '{"').
const KNOWN_TOKEN =
  /(?:^|[^A-Za-z0-9])(?:(?:syt|syr|mat|mar|mct|mcr)_[A-Za-z0-9_-]{4,}|MDAx[A-Za-z0-9+/_=-]{12,}|eyJ[A-Za-z0-9_-]{8,})/;

// A run of the characters tokens are made of (base64, base64url, hex).
const TOKEN_RUN = /[A-Za-z0-9+/_.~=-]{16,}/g;

/**
 * Whether text holds something shaped like a token: a known token prefix, or a long run of
 * token characters that mixes letters and digits as random strings do (upper and lower case
 * and digits from 16 characters; letters and digits from 24). Words, numbers, user IDs and
 * the parameters of these endpoints are not.
 */
export function looksLikeToken(text: string): boolean {
  if (KNOWN_TOKEN.test(text)) return true;
  for (const [run] of text.matchAll(TOKEN_RUN)) {
    const lower = /[a-z]/.test(run);
    const upper = /[A-Z]/.test(run);
    const digit = /[0-9]/.test(run);
    if (lower && upper && digit) return true;
    if (run.length >= 24 && digit && (lower || upper)) return true;
  }
  return false;
}

/** The path and query of a request target, each with every secret masked. */
export function redactRequestTarget(target: string): { path: string; query: string | undefined } {
  const question = target.indexOf("?");
  const rawPath = question === -1 ? target : target.slice(0, question);
  const path = maskCredentials(rawPath)
    .split("/")
    .map((segment) => (segmentHoldsSecret(segment, false) ? REDACTED : segment))
    .join("/");
  if (question === -1) return { path, query: undefined };
  // `&` and `;` both separate parameters (Synapse's parser splits on both), and whatever
  // follows a `#` is masked like a parameter too.
  const query = target
    .slice(question + 1)
    .split(/([&;#])/)
    .map((part, index) => (index % 2 === 1 ? part : redactParameter(part)))
    .join("");
  return { path, query };
}

/** One `name=value` of a query, as it came or with its value masked. */
function redactParameter(pair: string): string {
  if (pair === "" || !segmentHoldsSecret(pair, true)) return pair;
  const equals = pair.indexOf("=");
  const name = equals === -1 ? undefined : pair.slice(0, equals);
  // The name is kept when it shows nothing itself: `access_token%3D<token>` is one name.
  if (name !== undefined && !segmentHoldsSecret(name, false) && !/[=&;]/.test(decode(name))) {
    return `${name}=${REDACTED}`;
  }
  return REDACTED;
}

/**
 * Whether a query parameter or path segment holds a secret once decoded, however many times
 * it was percent-encoded: a token-shaped part, or a secret's name followed by `=` anywhere in
 * it (`a=access_token%3D...` hides one in a value). In a query a bare name counts too; in a
 * path only `name=value` does (a path segment named `tokens` is just a path).
 */
function segmentHoldsSecret(segment: string, inQuery: boolean): boolean {
  const decoded = decode(segment);
  if (looksLikeToken(decoded)) return true;
  for (const [, name] of decoded.matchAll(/([^&;=]*)=/g)) {
    if (SECRET_NAME.test(name ?? "")) return true;
  }
  return inQuery && !/[=&;]/.test(decoded) && SECRET_NAME.test(decoded);
}

/** Percent-decodes (and `+` as a space) until nothing changes, at most a few times. */
function decode(text: string): string {
  let current = text;
  for (let round = 0; round < 4; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current.replace(/\+/g, " "));
    } catch {
      // A broken escape: decode what can be, byte by byte, leaving the rest as it is.
      next = current.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) =>
        String.fromCharCode(parseInt(hex, 16)),
      );
    }
    if (next === current) return next;
    current = next;
  }
  return current;
}

/**
 * Masks the password of every `user:password@` in a text, whatever the scheme around it:
 * `pg://root:secret@host` becomes `pg://root:***@host`, and a file path holding such a part is
 * masked the same way. The user is kept (it says which role was used). A password may hold an
 * `@` of its own: the last `@` before the host ends it.
 */
export function maskCredentials(text: string): string {
  return text.replace(
    /([^\s/?#@:"'<>]+):[^\s/?#"'<>]*@/g,
    (_match, user: string) => `${user}:***@`,
  );
}
