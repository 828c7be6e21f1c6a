// Reads query parameters from the raw request target, the way Synapse (Twisted's parse_qs with
// blank values kept) does, so the host app's `query parser` setting and express major version
// cannot change what a parameter means.

import type { IncomingMessage } from "node:http";
import { invalidParam } from "../errors";

/** The parameters of one request: each name with every value it was given, in order. */
export class RawQuery {
  // Keyed by the name's bytes read as latin1, which keeps every byte and matches ASCII names.
  private readonly values = new Map<string, Buffer[]>();

  constructor(queryString: string) {
    for (const pair of queryString.split("&")) {
      if (pair === "") continue;
      const equals = pair.indexOf("=");
      const rawName = equals === -1 ? pair : pair.slice(0, equals);
      const rawValue = equals === -1 ? "" : pair.slice(equals + 1);
      const name = percentDecode(rawName).toString("latin1");
      const list = this.values.get(name);
      const value = percentDecode(rawValue);
      if (list) list.push(value);
      else this.values.set(name, [value]);
    }
  }

  /** Whether the parameter was given at all, even with an empty value. */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** How many values the parameter was given. */
  count(name: string): number {
    return this.values.get(name)?.length ?? 0;
  }

  /**
   * The first value of a parameter as text (later repeats are ignored, as in Synapse), or
   * undefined when absent. A value that is not valid UTF-8 is a 400, not a replacement
   * character: a search for mangled text would silently match something else.
   */
  first(name: string): string | undefined {
    const bytes = this.values.get(name)?.[0];
    if (bytes === undefined) return undefined;
    try {
      return utf8.decode(bytes);
    } catch {
      throw invalidParam(`Query parameter ${name} must be a valid UTF-8 string`);
    }
  }

  /** The first value of a parameter as raw bytes, or undefined when absent. */
  firstBytes(name: string): Buffer | undefined {
    return this.values.get(name)?.[0];
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The query of a request, read from its raw URL (express rewrites `req.url` when mounted). */
export function rawQueryOf(req: IncomingMessage & { originalUrl?: string }): RawQuery {
  const target = req.originalUrl ?? req.url ?? "";
  const question = target.indexOf("?");
  if (question === -1) return new RawQuery("");
  const hash = target.indexOf("#", question);
  return new RawQuery(target.slice(question + 1, hash === -1 ? undefined : hash));
}

/**
 * `+` is a space and `%XX` a byte; a `%` not followed by two hex digits stays as it is, as
 * Python's unquote leaves it, rather than failing the whole request.
 */
function percentDecode(text: string): Buffer {
  const spaced = text.replace(/\+/g, " ");
  // Node hands the request target over as one latin1 character per byte; a string with wider
  // characters can only come from code that built the request itself, and means UTF-8.
  const wide = [...spaced].some((char) => char.charCodeAt(0) > 0xff);
  const source = Buffer.from(spaced, wide ? "utf8" : "latin1");
  const out = Buffer.allocUnsafe(source.length);
  let length = 0;
  for (let i = 0; i < source.length; i++) {
    const byte = source[i] as number;
    if (byte === 0x25 && i + 2 < source.length && isHex(source[i + 1]) && isHex(source[i + 2])) {
      out[length++] = parseInt(
        String.fromCharCode(source[i + 1] as number, source[i + 2] as number),
        16,
      );
      i += 2;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

function isHex(byte: number | undefined): boolean {
  return (
    byte !== undefined &&
    ((byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x46) ||
      (byte >= 0x61 && byte <= 0x66))
  );
}
