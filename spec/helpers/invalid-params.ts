// Broken parameters every paging endpoint must answer 400 M_INVALID_PARAM, with Synapse's
// wording: shared by the specs of each endpoint that reads them.

/** [what is wrong, raw query string, the message] */
export type InvalidCase = [string, string, string];

/** `from` and `limit`. */
export const PAGING_INVALID: InvalidCase[] = [
  ["from not an integer", "from=abc", "Query parameter from must be an integer"],
  ["from negative", "from=-5", "Query parameter from must be a positive integer."],
  ["limit not an integer", "limit=ten", "Query parameter limit must be an integer"],
  ["limit negative", "limit=-1", "Query parameter limit must be a positive integer."],
];

/** `from_ts` and `until_ts`. */
export const TIME_WINDOW_INVALID: InvalidCase[] = [
  ["from_ts not an integer", "from_ts=yesterday", "Query parameter from_ts must be an integer"],
  ["from_ts negative", "from_ts=-1", "Query parameter from_ts must be a positive integer."],
  ["until_ts not an integer", "until_ts=now", "Query parameter until_ts must be an integer"],
  ["until_ts negative", "until_ts=-10", "Query parameter until_ts must be a positive integer."],
  [
    "until_ts equal to from_ts",
    "from_ts=500&until_ts=500",
    "Query parameter until_ts must be greater than from_ts.",
  ],
  [
    "until_ts before from_ts",
    "from_ts=500&until_ts=499",
    "Query parameter until_ts must be greater than from_ts.",
  ],
  [
    "until_ts=0 (from_ts defaults to 0)",
    "until_ts=0",
    "Query parameter until_ts must be greater than from_ts.",
  ],
];

/** Integers are an optional minus and ASCII digits; everything here is something else. */
export const NOT_INTEGERS: Array<[string, string]> = [
  ["hexadecimal", "0x10"],
  ["exponent", "1e2"],
  ["fraction", "5.0"],
  ["a space", "%20"],
  ["empty", ""],
  ["a plus sign", "%2B5"],
  ["a plus as space", "+5"],
  ["a leading space", "%205"],
  ["a trailing space", "5%20"],
  ["underscores", "1_000"],
  ["non-ASCII digits", "%D9%A5"],
  ["full-width digits", "%EF%BC%95"],
  ["beyond 2^53", "9007199254740993"],
  ["2^53", "9007199254740992"],
  ["far beyond 2^64", "99999999999999999999999999"],
  ["Infinity", "Infinity"],
  ["NaN", "NaN"],
  ["a lone minus", "-"],
  ["a newline", "5%0A"],
];

/** `search_term`. */
export const SEARCH_TERM_INVALID: InvalidCase[] = [
  ["empty search_term", "search_term=", "Query parameter search_term cannot be an empty string."],
  [
    "search_term with NUL",
    "search_term=a%00b",
    "Query parameter search_term must not contain a NUL character.",
  ],
  [
    "search_term too long",
    `search_term=${"x".repeat(1001)}`,
    "Query parameter search_term must be at most 1000 characters",
  ],
  [
    "search_term not UTF-8",
    "search_term=%C3%28",
    "Query parameter search_term must be a valid UTF-8 string",
  ],
];

/** `dir`, and a parameter given without a value. */
export const DIRECTION_INVALID: InvalidCase[] = [
  ["unknown dir", "dir=x", "Query parameter 'dir' must be one of ['f', 'b']"],
  ["dir spelled out", "dir=forwards", "Query parameter 'dir' must be one of ['f', 'b']"],
  ["empty dir", "dir=", "Query parameter 'dir' must be one of ['f', 'b']"],
  ["parameter without a value", "limit", "Query parameter limit must be an integer"],
];
