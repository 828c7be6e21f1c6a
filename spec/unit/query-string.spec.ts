// Query parameters read from the raw request target, as Twisted's parse_qs reads them.

import { RawQuery, rawQueryOf } from "../../lib/http/query-string";
import type { IncomingMessage } from "node:http";

describe("raw query parsing", () => {
  test("the first value of a repeated parameter counts", () => {
    const query = new RawQuery("a=1&a=2&b=3");
    expect(query.first("a")).toBe("1");
    expect(query.count("a")).toBe(2);
  });

  test("a name without = has an empty value, and empty pairs are skipped", () => {
    const query = new RawQuery("&&flag&x=");
    expect(query.has("flag")).toBe(true);
    expect(query.first("flag")).toBe("");
    expect(query.first("x")).toBe("");
    expect(query.has("")).toBe(false);
  });

  test("+ is a space and %XX a byte, in names and values", () => {
    const query = new RawQuery("se%61rch+term=a+b%2Bc&%C3%A9=%C3%A9");
    expect(query.first("search term")).toBe("a b+c");
    expect(query.first("é")).toBeUndefined();
    expect(query.has(Buffer.from("é").toString("latin1"))).toBe(true);
  });

  test("a broken percent escape is kept as it is", () => {
    expect(new RawQuery("a=%zz%4").first("a")).toBe("%zz%4");
    expect(new RawQuery("a=100%").first("a")).toBe("100%");
  });

  test("only the first = splits name from value", () => {
    expect(new RawQuery("a=b=c").first("a")).toBe("b=c");
  });

  test("invalid UTF-8 in a value is a 400 naming the parameter", () => {
    expect(() => new RawQuery("search_term=%FF").first("search_term")).toThrow(
      expect.objectContaining({ status: 400, errcode: "M_INVALID_PARAM" }),
    );
    expect(new RawQuery("search_term=%FF").firstBytes("search_term")).toEqual(Buffer.from([0xff]));
  });

  test("raw bytes in the target (latin1 per byte, as Node hands them over) decode as UTF-8", () => {
    const target = Buffer.from("/x?q=é", "utf8").toString("latin1");
    expect(rawQueryOf({ url: target } as IncomingMessage).first("q")).toBe("é");
  });

  test("the query is read from originalUrl when express set it, and stops at a fragment", () => {
    const req = { url: "/users/media", originalUrl: "/_synapse/admin/users/media?limit=5#frag" };
    expect(rawQueryOf(req as IncomingMessage & { originalUrl: string }).first("limit")).toBe("5");
    expect(rawQueryOf({ url: "/no-query" } as IncomingMessage).has("limit")).toBe(false);
  });
});
