// The report as a person reads it in a terminal: a section per question, each an aligned table
// with a bar per row, and the months as a bar chart. Only formatting: the figures are the
// StorageReport's, untouched.

import type { ContentTypeUsage, CountAndBytes, MonthlyUsage, TableSize } from "../storage-types";
import type { StorageReport } from "../report-document";
import {
  formatBytes,
  formatCount,
  MAX_CELL,
  table,
  wrap,
  type Colour,
  type Column,
  type Style,
} from "./report-layout";

export interface RenderOptions {
  style: Style;
  /** The width to fit: the terminal's, or 80 when the output is not one. */
  width: number;
}

/** The section headings, in the order the report prints them (the README's sample follows it). */
export const SECTION_TITLES = {
  disk: "Where the disk goes",
  tables: "Largest tables",
  rooms: "Largest rooms",
  uploaders: "Top uploaders",
  origins: "Top origins",
  types: "Content types",
  growth: "Growth per month (UTC)",
  notes: "Notes",
} as const;

const LOCAL: Colour = "cyan";
const REMOTE: Colour = "magenta";
const DATABASE: Colour = "yellow";
const ROOMS: Colour = "green";

const left = (heading: string): Column => ({ heading, align: "left" });
// As wide as the widest value they can hold (`1,000,000`, `1023.9 MiB`): bars of tables that
// share a scale then start in the same column and have the same width.
const files = (heading = "files"): Column => ({ heading, align: "right", minWidth: 9 });
const size = (heading = "size"): Column => ({ heading, align: "right", minWidth: 10 });

/** The whole report, ending with a newline. */
export function renderReport(report: StorageReport, options: RenderOptions): string {
  const { style } = options;
  const { overview } = report;
  const engine = overview.database.engine === "postgresql" ? "PostgreSQL" : "SQLite";
  const read = new Date(overview.generated_at).toISOString().replace("T", " ").slice(0, 19);
  const sections = [
    [
      style.bold(`Storage report of a ${engine} database, read at ${read} UTC`),
      ...wrap(`Database: ${report.source.database}`, options.width, ""),
      ...(report.source.state_database === null
        ? []
        : wrap(`State database: ${report.source.state_database}`, options.width, "")),
      "Sizes in binary units: 1 KiB = 1,024 bytes, 1 MiB = 1,024 KiB, and so on.",
    ],
    diskSection(report, options),
    ...tablesSections(report, options),
    roomsSection(report, options),
    topSection(
      options,
      "uploaders",
      report.top_uploaders.users.map((user) => ({
        name: user.user_id,
        count: user.media_count,
        bytes: user.media_length,
      })),
      report.top_uploaders.total,
    ),
    topSection(
      options,
      "origins",
      report.top_origins.origins.map((origin) => ({
        name: origin.origin,
        count: origin.media_count,
        bytes: origin.media_length,
      })),
      report.top_origins.total,
    ),
    typesSection(report, options),
    growthSection(report, options),
    notesSection(report, options),
  ];
  return `${sections.map((lines) => lines.join("\n")).join("\n\n")}\n`;
}

function title(style: Style, text: string, detail?: string): string {
  return detail === undefined ? style.bold(text) : `${style.bold(text)}: ${detail}`;
}

/** A dim paragraph under a heading: why a table is missing, or what to read it with. */
function remark(style: Style, options: RenderOptions, text: string): string[] {
  return wrap(text, options.width, "  ").map((line) => style.dim(line));
}

function diskSection(report: StorageReport, options: RenderOptions): string[] {
  const { overview } = report;
  const local = overview.local_media;
  const remote = overview.remote_media;
  const rows: Array<{ what: string; figures: Partial<CountAndBytes>; colour?: Colour }> = [
    {
      what: "main database",
      figures: { bytes: overview.database.main.size_bytes },
      colour: DATABASE,
    },
    ...(overview.database.state
      ? [
          {
            what: "state database",
            figures: { bytes: overview.database.state.size_bytes },
            colour: DATABASE,
          },
        ]
      : []),
    { what: "local media", figures: local, colour: LOCAL },
    { what: "  of which URL previews", figures: local.url_cache },
    { what: "  of which quarantined", figures: local.quarantined },
    { what: "local thumbnails", figures: local.thumbnails, colour: LOCAL },
    {
      what: `remote media (${formatCount(remote.origins)} origins)`,
      figures: remote,
      colour: REMOTE,
    },
    { what: "  of which quarantined", figures: remote.quarantined },
    { what: "remote thumbnails", figures: remote.thumbnails, colour: REMOTE },
  ];
  // The bars compare the stores: the "of which" rows are parts of the row above, not stores.
  const stores = rows.map((row) => (row.colour === undefined ? 0 : (row.figures.bytes ?? 0)));
  const lines = table(
    [left(""), files(), size()],
    rows.map((row) => [
      row.what,
      row.figures.count === undefined ? "" : formatCount(row.figures.count),
      formatBytes(row.figures.bytes ?? 0),
    ]),
    {
      ...options,
      bars: {
        values: stores,
        max: Math.max(...stores),
        colour: rows.map((row) => row.colour ?? DATABASE),
      },
    },
  );
  return [
    title(options.style, SECTION_TITLES.disk),
    ...lines,
    ...wrap(
      "Media are files in Synapse's media store, beside the database: its tables hold their records only.",
      options.width,
      "  ",
    ).map((line) => options.style.dim(line)),
  ];
}

function tablesSections(report: StorageReport, options: RenderOptions): string[][] {
  const { database } = report.overview;
  const postgres = database.engine === "postgresql";
  const section = (name: string, tables: TableSize[] | null): string[] => {
    const heading = title(options.style, SECTION_TITLES.tables, `${name} database`);
    if (tables === null) {
      const reason = report.unavailable.find((figure) => figure.figure.endsWith("largest_tables"));
      return [
        heading,
        ...remark(options.style, options, `Unavailable: ${reason?.reason ?? "unknown reason"}.`),
      ];
    }
    return [
      heading,
      ...table(
        [left("table"), size("total"), size("indexes"), files(postgres ? "rows (est.)" : "rows")],
        tables.map((row) => [
          row.table,
          formatBytes(row.total_bytes),
          formatBytes(row.index_bytes),
          row.rows === null ? "unknown" : formatCount(row.rows),
        ]),
        {
          ...options,
          bars: {
            values: tables.map((row) => row.total_bytes),
            max: tables[0]?.total_bytes ?? 0,
            colour: DATABASE,
          },
        },
      ),
    ];
  };
  return [
    section("main", database.main.largest_tables),
    ...(database.state ? [section("state", database.state.largest_tables)] : []),
  ];
}

function roomsSection(report: StorageReport, options: RenderOptions): string[] {
  const rooms = report.largest_rooms?.rooms;
  if (rooms === undefined) {
    const reason = report.unavailable.find((figure) => figure.figure === "largest_rooms");
    return [
      title(options.style, SECTION_TITLES.rooms),
      ...remark(options.style, options, `Unavailable on SQLite: ${reason?.reason ?? ""}.`),
    ];
  }
  const heading = title(
    options.style,
    SECTION_TITLES.rooms,
    "estimated from PostgreSQL's planner statistics",
  );
  if (rooms.length === 0) {
    return [
      heading,
      ...remark(options.style, options, "None: no room table has planner statistics yet."),
    ];
  }
  return [
    heading,
    ...table(
      [left("room"), size()],
      rooms.map((room) => [room.room_id, formatBytes(room.estimated_size)]),
      {
        ...options,
        bars: {
          values: rooms.map((room) => room.estimated_size),
          max: rooms[0]?.estimated_size ?? 0,
          colour: ROOMS,
        },
      },
    ),
  ];
}

/** A ranked list: name, files and bytes, a bar each; or a line saying there is none. */
function ranked(
  heading: string,
  rows: readonly RankedRow[],
  nameHeading: string,
  colour: Colour,
  options: RenderOptions,
  nameWidth = 0,
): string[] {
  if (rows.length === 0) return [heading, ...remark(options.style, options, "None yet.")];
  return [
    heading,
    ...table(
      [{ ...left(nameHeading), minWidth: nameWidth }, files(), size()],
      rows.map((row) => [row.name, formatCount(row.count), formatBytes(row.bytes)]),
      {
        ...options,
        bars: {
          values: rows.map((row) => row.bytes),
          max: Math.max(...rows.map((row) => row.bytes)),
          colour,
        },
      },
    ),
  ];
}

/** A ranked row: who, how many media, how many bytes. */
interface RankedRow {
  name: string;
  count: number;
  bytes: number;
}

const TOP_LISTS = {
  uploaders: { source: "local media", what: "uploaders", heading: "user", colour: LOCAL },
  origins: { source: "remote media", what: "servers", heading: "origin", colour: REMOTE },
} as const;

/** The top uploaders or origins: those with the most bytes, out of how many there are. */
function topSection(
  options: RenderOptions,
  list: keyof typeof TOP_LISTS,
  rows: RankedRow[],
  total: number,
): string[] {
  const { source, what, heading, colour } = TOP_LISTS[list];
  const detail =
    rows.length === 0
      ? source
      : `${source}, the ${rows.length} of ${formatCount(total)} ${what} with the most bytes`;
  return ranked(title(options.style, SECTION_TITLES[list], detail), rows, heading, colour, options);
}

function typesSection(report: StorageReport, options: RenderOptions): string[] {
  const { local_media: local, remote_media: remote } = report.overview;
  const name = (type: ContentTypeUsage): string => type.content_type ?? "(none)";
  // Both lists in the same columns.
  const width = Math.min(
    MAX_CELL,
    Math.max(
      0,
      ...[...local.content_types, ...remote.content_types].map((type) => name(type).length),
    ),
  );
  const part = (label: string, types: ContentTypeUsage[], colour: Colour): string[] =>
    ranked(
      `  ${label}`,
      types.map((type) => ({ name: name(type), count: type.count, bytes: type.bytes })),
      "content type",
      colour,
      options,
      width,
    );
  return [
    title(options.style, SECTION_TITLES.types, "the 10 with the most bytes"),
    ...part("local media", local.content_types, LOCAL),
    ...part("remote media", remote.content_types, REMOTE),
  ];
}

function growthSection(report: StorageReport, options: RenderOptions): string[] {
  const local = report.overview.local_media.monthly;
  const remote = report.overview.remote_media.monthly;
  // One scale for both charts, so their bars compare.
  const max = Math.max(...local.map((month) => month.bytes), ...remote.map((month) => month.bytes));
  const chart = (label: string, months: MonthlyUsage[], colour: Colour): string[] => [
    `  ${label}`,
    ...table(
      [left("month"), files(), size()],
      months.map((month) => [month.month, formatCount(month.count), formatBytes(month.bytes)]),
      { ...options, bars: { values: months.map((month) => month.bytes), max, colour } },
    ),
  ];
  const sum = (months: MonthlyUsage[]) => months.reduce((total, month) => total + month.bytes, 0);
  return [
    title(options.style, SECTION_TITLES.growth, `the last ${local.length} months`),
    ...remark(
      options.style,
      options,
      `${formatBytes(sum(local))} uploaded, ${formatBytes(sum(remote))} fetched; both charts on one scale.`,
    ),
    ...chart("local media uploaded", local, LOCAL),
    ...chart("remote media fetched", remote, REMOTE),
  ];
}

function notesSection(report: StorageReport, options: RenderOptions): string[] {
  const notes = [...report.overview.notes, ...report.notes];
  return [
    title(options.style, SECTION_TITLES.notes),
    ...notes.flatMap((note) =>
      wrap(note, options.width, "    ", "  - ").map((line) => options.style.dim(line)),
    ),
  ];
}
