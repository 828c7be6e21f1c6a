// Calendar months in UTC as half-open ranges of milliseconds: what "uploads per month" is
// bucketed by, worked out in code once per request so that the SQL only compares integers.

/** A run of consecutive calendar months (UTC), oldest first. */
export interface CalendarMonths {
  /** `YYYY-MM` of each month. */
  labels: string[];
  /**
   * The first millisecond of each month, then the first of the month after the last one:
   * `labels.length + 1` ascending boundaries. Month i holds `[starts[i], starts[i + 1])`.
   */
  boundaries: number[];
}

/** The `count` calendar months (UTC) ending with the one that holds `nowMs`, oldest first. */
export function calendarMonthsUntil(nowMs: number, count: number): CalendarMonths {
  const now = new Date(nowMs);
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const labels: string[] = [];
  const boundaries: number[] = [];
  for (let offset = count - 1; offset >= -1; offset--) {
    // Date.UTC carries a negative or overflowing month into the year.
    const start = Date.UTC(year, month - offset, 1);
    boundaries.push(start);
    if (offset >= 0) labels.push(new Date(start).toISOString().slice(0, 7));
  }
  return { labels, boundaries };
}
