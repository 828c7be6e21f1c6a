// The oracle of the storage summary: what the storage endpoints' scans of the media tables
// answer, compared with what the summary answers, for the overview and for origin pages in
// every order, direction and a search; and verify finding no drift.

import type { Knex } from "knex";
import { verifyStorageSummary } from "../../lib";
import type { Dialect } from "../../lib/dialect";
import { calendarMonthsUntil } from "../../lib/storage/calendar-months";
import { readRemoteOrigins, type RemoteOriginsFilter } from "../../lib/storage/remote-origins";
import { scanMediaFigures } from "../../lib/storage/storage-overview";
import { summaryMediaFigures, summaryRemoteOrigins } from "../../lib/storage/storage-summary";
import type { RemoteOriginsOrder } from "../../lib/storage-types";

export const NOW = Date.UTC(2026, 5, 15, 12);

const BREAKDOWN = { months: calendarMonthsUntil(NOW, 24), contentTypes: 10 };

export function originFilters(): RemoteOriginsFilter[] {
  const filters: RemoteOriginsFilter[] = [];
  for (const orderBy of ["origin", "media_count", "media_length"] as RemoteOriginsOrder[]) {
    for (const direction of ["f", "b"] as const) {
      filters.push({ from: 0, limit: 1000, orderBy, direction, searchTerm: undefined });
      filters.push({ from: 2, limit: 3, orderBy, direction, searchTerm: undefined });
    }
  }
  filters.push({
    from: 0,
    limit: 50,
    orderBy: "media_length",
    direction: "b",
    searchTerm: "EXAMPLE",
  });
  filters.push({ from: 0, limit: 50, orderBy: "origin", direction: "f", searchTerm: "_" });
  filters.push({ from: 500, limit: 10, orderBy: "origin", direction: "f", searchTerm: undefined });
  return filters;
}

/** The summary answers what the scans answer, and verify finds it exact. */
export async function expectSummaryMatchesScan(knex: Knex, dialect: Dialect): Promise<void> {
  const report = await verifyStorageSummary(knex);
  expect({ missing: report.missing, drift: report.drift }).toEqual({ missing: [], drift: [] });
  expect(await summaryMediaFigures(knex, dialect, BREAKDOWN)).toEqual(
    await scanMediaFigures(knex, dialect, BREAKDOWN),
  );
  for (const filter of originFilters()) {
    expect({ filter, page: await summaryRemoteOrigins(knex, dialect, filter) }).toEqual({
      filter,
      page: await readRemoteOrigins(knex, dialect, filter),
    });
  }
}
