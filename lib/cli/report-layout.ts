// The pieces a report for a terminal is made of: human units, horizontal bars, aligned tables
// and colour that can be turned off. Plain text functions: nothing here knows the figures.

/** Binary units: a KiB is 1,024 bytes (not the 1,000 of a kB). */
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"] as const;

/** Bytes in binary units: `512 B`, `1.0 KiB`, `54.2 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // 1,048,575 bytes is 1023.999 KiB: shown as 1.0 MiB, not 1024.0 KiB.
  if (value.toFixed(1) === "1024.0" && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A count with thousands separators, the same whatever the machine's locale: `40,000`. */
export function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/**
 * A horizontal bar `width` cells long at `max`, in eighths of a cell; anything above zero
 * shows at least a sliver, so a small share is not mistaken for none.
 */
export function bar(value: number, max: number, width: number): string {
  if (value <= 0 || max <= 0) return "";
  const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * width * 8));
  return "█".repeat(Math.floor(eighths / 8)) + (EIGHTHS[eighths % 8] ?? "");
}

export type Colour = "cyan" | "magenta" | "yellow" | "green";

/** How text is emphasised: ANSI escapes, or nothing at all. */
export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  colour(colour: Colour, text: string): string;
}

const SGR: Record<Colour, number> = { cyan: 36, magenta: 35, yellow: 33, green: 32 };

export function terminalStyle(colours: boolean): Style {
  if (!colours) return { bold: (text) => text, dim: (text) => text, colour: (_c, text) => text };
  const wrap = (on: number, off: number) => (text: string) =>
    text === "" ? text : `\u001b[${on}m${text}\u001b[${off}m`;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    colour: (colour, text) => wrap(SGR[colour], 39)(text),
  };
}

/**
 * Whether to colour what goes to `stream`: FORCE_COLOR set (but not `0` or `false`) forces
 * colour, as Node.js and most tools read it; otherwise NO_COLOR set to anything but the empty
 * string (no-color.org), or TERM=dumb, turns it off; otherwise colour only on a terminal.
 */
export function wantsColour(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

/** A column of a table: its heading and how its cells align. */
export interface Column {
  heading: string;
  align: "left" | "right";
  /** At least this wide: tables whose bars share a scale must give them the same width. */
  minWidth?: number;
}

/** The longest a left-aligned cell is shown; longer ones are cut with an ellipsis. */
export const MAX_CELL = 40;
/** The bar column's width bounds. */
const MIN_BAR = 10;
const MAX_BAR = 40;

export interface TableOptions {
  /** The whole line's width budget (the terminal's, or 80 in a pipe). */
  width: number;
  style: Style;
  /** The bar of each row: its value, the value of a full bar, and its colour (or each row's). */
  bars?: { values: readonly number[]; max: number; colour: Colour | readonly Colour[] };
}

/**
 * Rows under their headings, each column as wide as its widest cell, two spaces apart and two
 * in from the margin; then, when asked, a bar per row in whatever width is left.
 */
export function table(
  columns: readonly Column[],
  rows: ReadonlyArray<readonly string[]>,
  options: TableOptions,
): string[] {
  const cells = rows.map((row) =>
    row.map((cell, index) =>
      columns[index]?.align === "left" && cell.length > MAX_CELL
        ? `${cell.slice(0, MAX_CELL - 1)}…`
        : cell,
    ),
  );
  const widths = columns.map((column, index) =>
    Math.max(
      column.minWidth ?? 0,
      column.heading.length,
      ...cells.map((row) => row[index]?.length ?? 0),
    ),
  );
  const line = (row: readonly string[]): string =>
    `  ${row
      .map((cell, index) =>
        columns[index]?.align === "right"
          ? cell.padStart(widths[index] ?? 0)
          : cell.padEnd(widths[index] ?? 0),
      )
      .join("  ")}`;
  const used = line(columns.map(() => "")).length + 2;
  const barWidth = Math.min(MAX_BAR, Math.max(MIN_BAR, options.width - used));
  const { style, bars } = options;
  return [
    style.dim(line(columns.map((column) => column.heading)).trimEnd()),
    ...cells.map((row, index) => {
      const text = line(row);
      if (!bars) return text.trimEnd();
      const drawn = bar(bars.values[index] ?? 0, bars.max, barWidth);
      const colour = typeof bars.colour === "string" ? bars.colour : bars.colour[index];
      if (drawn === "") return text.trimEnd();
      return `${text}  ${colour === undefined ? drawn : style.colour(colour, drawn)}`;
    }),
  ];
}

/** `text` cut into lines of at most `width` characters at spaces, each after `indent`. */
export function wrap(text: string, width: number, indent: string, firstIndent = indent): string[] {
  const lines: string[] = [];
  let current = firstIndent;
  let empty = true;
  for (const word of text.split(/\s+/)) {
    if (!empty && current.length + 1 + word.length > width) {
      lines.push(current);
      current = indent;
      empty = true;
    }
    current += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(current);
  return lines;
}
