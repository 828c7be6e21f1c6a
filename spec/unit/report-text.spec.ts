// The report's text, without a database: binary units, bars, colour rules, aligned tables, and
// how each section reads when its figures are unavailable or there are none.

import { randomStorageDataset } from "../../fixtures";
import { describeFigures } from "../../lib/storage/storage-overview";
import type { StorageReport } from "../../lib/report-document";
import {
  bar,
  formatBytes,
  formatCount,
  table,
  terminalStyle,
  wantsColour,
} from "../../lib/cli/report-layout";
import { renderReport, SECTION_TITLES } from "../../lib/cli/report-text";
import { expectedMediaOverview } from "../helpers/storage-oracle";

const plain = terminalStyle(false);
const NOW = Date.UTC(2026, 4, 17, 12, 30, 5);

/** A report as `report --json` would print it for the random storage data set. */
function sampleReport(engine: "postgresql" | "sqlite"): StorageReport {
  const dataset = randomStorageDataset({ seed: 3, now: NOW });
  const dialect = engine === "postgresql" ? "postgres" : "sqlite";
  const tables = [
    ["event_json", 7_340_032_000, 1_000_000],
    ["events", 2_147_483_648, 9_000_000],
    ["state_groups_state", 1_073_741_824, null],
  ] as const;
  return {
    report_version: 1,
    source: { database: "postgres://stats:***@db.internal/synapse", state_database: null },
    overview: {
      generated_at: NOW,
      database: {
        engine,
        main: {
          size_bytes: 12_884_901_888,
          largest_tables: tables.map(([name, bytes, rows]) => ({
            schema: engine === "postgresql" ? "public" : null,
            table: name,
            total_bytes: bytes,
            table_bytes: bytes / 2,
            index_bytes: bytes / 2,
            toast_bytes: engine === "postgresql" ? 0 : null,
            rows,
          })),
        },
        state: null,
      },
      ...expectedMediaOverview(dataset, NOW),
      ...describeFigures(dialect, { state: false, tableSizes: true }),
    },
    largest_rooms:
      engine === "postgresql"
        ? {
            rooms: [
              { room_id: "!big:example.org", estimated_size: 3_000_000_000 },
              { room_id: "!small:example.org", estimated_size: 1_000 },
            ],
          }
        : null,
    top_uploaders: {
      users: [
        { user_id: "@alice:example.org", displayname: null, media_count: 1234, media_length: 5e9 },
        { user_id: "@bob:example.org", displayname: "Bob", media_count: 1, media_length: 0 },
      ],
      total: 3000,
    },
    top_origins: {
      origins: [
        {
          origin: "matrix.org",
          media_count: 40_000,
          media_length: 9e10,
          thumbnail_length: 1e9,
          first_fetched_ts: 1,
          last_fetched_ts: 2,
        },
      ],
      total: 1200,
    },
    unavailable:
      engine === "sqlite"
        ? [{ figure: "largest_rooms", reason: "Synapse's estimate reads PostgreSQL's statistics" }]
        : [],
    notes: [],
  };
}

describe("units", () => {
  test.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [1_048_575, "1.0 MiB"],
    [1_048_576, "1.0 MiB"],
    [2_147_483_647, "2.0 GiB"],
    [58_210_727_112, "54.2 GiB"],
    [5 * 2 ** 40, "5.0 TiB"],
    [Number.MAX_SAFE_INTEGER, "8.0 PiB"],
  ])("%d bytes are %s (binary units)", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  test.each([
    [0, "0"],
    [999, "999"],
    [1000, "1,000"],
    [1_234_567, "1,234,567"],
  ])("the count %d is %s, whatever the locale", (count, text) => {
    expect(formatCount(count)).toBe(text);
  });
});

describe("bars", () => {
  test.each([
    [0, 10, 10, ""],
    [10, 10, 10, "██████████"],
    [5, 10, 3, "█▌"],
    [1, 1000, 10, "▏"],
    [20, 10, 4, "████"],
    [3, 0, 10, ""],
  ])("%d of %d in %d cells is %j", (value, max, width, drawn) => {
    expect(bar(value, max, width)).toBe(drawn);
  });
});

describe("colour", () => {
  test.each([
    [{}, false, false],
    [{}, true, true],
    [{ NO_COLOR: "1" }, true, false],
    [{ NO_COLOR: "" }, true, true],
    [{ TERM: "dumb" }, true, false],
    [{ FORCE_COLOR: "1" }, false, true],
    [{ FORCE_COLOR: "3" }, false, true],
    [{ FORCE_COLOR: "0" }, true, false],
    [{ FORCE_COLOR: "false" }, true, false],
    [{ FORCE_COLOR: "1", NO_COLOR: "1" }, false, true],
  ])("%j with a terminal %s: colour %s", (env, terminal, colour) => {
    expect(wantsColour(env, { isTTY: terminal })).toBe(colour);
  });

  test("the plain style adds nothing; the terminal style wraps in SGR codes", () => {
    expect(plain.colour("cyan", plain.bold("x"))).toBe("x");
    expect(terminalStyle(true).colour("cyan", "█")).toBe("\u001b[36m█\u001b[39m");
    expect(terminalStyle(true).bold("")).toBe("");
  });
});

describe("tables", () => {
  test("columns align, numbers to the right, and a long name is cut with an ellipsis", () => {
    const long = `@${"x".repeat(60)}:example.org`;
    const lines = table(
      [
        { heading: "user", align: "left" },
        { heading: "size", align: "right" },
      ],
      [
        ["@a:b", "1.0 KiB"],
        [long, "10.0 GiB"],
      ],
      { width: 80, style: plain, bars: { values: [1, 2], max: 2, colour: "cyan" } },
    );
    // The name column is 40 wide (the cut), the size column 8; the bars get the rest of 80.
    const row = (name: string, size: string) => `  ${name.padEnd(40)}  ${size.padStart(8)}`;
    expect(lines[0]).toBe(row("user", "size"));
    expect(lines[1]).toBe(`${row("@a:b", "1.0 KiB")}  ${"█".repeat(13)}`);
    expect(lines[2]).toBe(`${row(`@${"x".repeat(38)}…`, "10.0 GiB")}  ${"█".repeat(26)}`);
  });
});

describe("the text of a report", () => {
  test("every section, in order, under a header that states the units", () => {
    const text = renderReport(sampleReport("postgresql"), { style: plain, width: 80 });
    const titles = Object.values(SECTION_TITLES);
    expect(
      text.split("\n").flatMap((line) => titles.filter((title) => line.startsWith(`${title}`))),
    ).toEqual(titles);
    expect(text).toContain(
      "Storage report of a PostgreSQL database, read at 2026-05-17 12:30:05 UTC\nDatabase: postgres://stats:***@db.internal/synapse\n",
    );
    expect(text).toContain("1 KiB = 1,024 bytes");
    expect(text).toMatch(/^ {2}event_json +6\.8 GiB +3\.4 GiB +1,000,000 +█{10,}$/m);
    expect(text).toMatch(/^ {2}state_groups_state .* unknown +█+[▉-▏]?$/m);
    expect(text).toMatch(/^ {2}!small:example\.org +1000 B +▏$/m);
    expect(text).toMatch(/^ {2}@bob:example\.org +1 +0 B$/m);
  });

  test("fits in 80 columns, and in the terminal's width when it is wider", () => {
    for (const width of [80, 120]) {
      const text = renderReport(sampleReport("postgresql"), { style: plain, width });
      const widest = Math.max(...text.split("\n").map((line) => line.length));
      expect({ width, fits: widest <= width }).toEqual({ width, fits: true });
    }
  });

  test("on SQLite: the rooms are unavailable, said plainly", () => {
    const text = renderReport(sampleReport("sqlite"), { style: plain, width: 80 });
    expect(text).toContain(
      "Largest rooms\n  Unavailable on SQLite: Synapse's estimate reads PostgreSQL's statistics.",
    );
    expect(text).toMatch(/^ {2}table +total +indexes +rows$/m);
  });

  test("an SQLite without dbstat: the table sizes are unavailable, and why", () => {
    const report = sampleReport("sqlite");
    report.overview.database.main.largest_tables = null;
    report.unavailable.push({
      figure: "overview.database.main.largest_tables",
      reason: "this SQLite was built without the dbstat virtual table",
    });
    const text = renderReport(report, { style: plain, width: 80 });
    expect(text).toContain(
      "Largest tables: main database\n  Unavailable: this SQLite was built without the dbstat virtual table.",
    );
  });

  test("an empty database: no uploader, no origin, no room, months without bars", () => {
    const report = sampleReport("postgresql");
    report.top_uploaders = { users: [], total: 0 };
    report.top_origins = { origins: [], total: 0 };
    report.largest_rooms = { rooms: [] };
    for (const media of [report.overview.local_media, report.overview.remote_media]) {
      media.monthly = media.monthly.map((month) => ({ ...month, count: 0, bytes: 0 }));
    }
    const text = renderReport(report, { style: plain, width: 80 });
    expect(text).toContain("Top uploaders: local media\n  None yet.");
    expect(text).toContain("Top origins: remote media\n  None yet.");
    expect(text).toContain("Largest rooms: estimated from PostgreSQL's planner statistics\n  None");
    expect(text).toMatch(/^ {2}2026-05 +0 +0 B$/m);
  });

  test("a split-off state database has its own row and its own largest tables", () => {
    const report = sampleReport("postgresql");
    report.overview.database.state = { size_bytes: 2048, largest_tables: [] };
    const text = renderReport(report, { style: plain, width: 80 });
    expect(text).toMatch(/^ {2}state database +2\.0 KiB/m);
    expect(text).toContain("Largest tables: state database");
  });

  test("with colour: headings bold, bars coloured, and the same text once the codes are gone", () => {
    const report = sampleReport("postgresql");
    const coloured = renderReport(report, { style: terminalStyle(true), width: 80 });
    expect(coloured).toContain("\u001b[1mWhere the disk goes\u001b[22m");
    expect(coloured).toContain("\u001b[36m█");
    const ESC = "\u001b";
    expect(coloured.replace(new RegExp(`${ESC}\\[\\d+m`, "g"), "")).toBe(
      renderReport(report, { style: plain, width: 80 }),
    );
  });
});
