// The storage endpoints' answers computed in plain TypeScript from the seeded rows: an
// independent statement of the contract that the SQL on both backends is checked against.

import type { StorageDataset } from "../../fixtures";
import type {
  ContentTypeUsage,
  CountAndBytes,
  LargestLocalMedia,
  LargestMediaResponse,
  LargestRemoteMedia,
  LocalMediaUsage,
  MonthlyUsage,
  RemoteMediaUsage,
  RemoteOriginsResponse,
  RemoteOriginUsage,
} from "../../lib/storage-types";
import { compareBytes } from "./oracle";

interface MediaLike {
  media_type?: string | null;
  media_length: number | null;
  created_ts: number | null;
  quarantined_by?: string | null;
}

const asciiLower = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** NULL after every text, texts by bytes. */
const compareNullLast = (a: string | null, b: string | null): number =>
  a === null || b === null ? (a === b ? 0 : a === null ? 1 : -1) : compareBytes(a, b);

/** The 24 `YYYY-MM` labels ending with the month of `now`, counted back by hand. */
export function lastMonths(now: number, count = 24): string[] {
  const [year, month] = new Date(now).toISOString().slice(0, 7).split("-").map(Number) as [
    number,
    number,
  ];
  const labels: string[] = [];
  for (let back = count - 1; back >= 0; back--) {
    const zeroBased = year * 12 + (month - 1) - back;
    const y = Math.floor(zeroBased / 12);
    const m = (zeroBased % 12) + 1;
    labels.push(`${y}-${String(m).padStart(2, "0")}`);
  }
  return labels;
}

function add(sum: CountAndBytes, row: { media_length: number | null }): void {
  sum.count += 1;
  sum.bytes += row.media_length ?? 0;
}

function mediaFigures(rows: readonly MediaLike[], now: number) {
  const totals = { count: 0, bytes: 0 };
  const quarantined = { count: 0, bytes: 0 };
  const types = new Map<string | null, ContentTypeUsage>();
  const labels = lastMonths(now);
  const months = new Map<string, MonthlyUsage>(
    labels.map((month) => [month, { month, count: 0, bytes: 0 }]),
  );
  for (const row of rows) {
    add(totals, row);
    if (row.quarantined_by != null) add(quarantined, row);
    const type = row.media_type ?? null;
    const usage = types.get(type) ?? { content_type: type, count: 0, bytes: 0 };
    add(usage, row);
    types.set(type, usage);
    if (row.created_ts !== null) {
      const month = months.get(new Date(row.created_ts).toISOString().slice(0, 7));
      if (month) add(month, row);
    }
  }
  const contentTypes = [...types.values()]
    .sort((a, b) => b.bytes - a.bytes || compareNullLast(a.content_type, b.content_type))
    .slice(0, 10);
  return {
    ...totals,
    quarantined,
    content_types: contentTypes,
    monthly: labels.map((label) => months.get(label) as MonthlyUsage),
  };
}

function thumbnailTotals(rows: ReadonlyArray<{ thumbnail_length: number | null }>): CountAndBytes {
  return {
    count: rows.length,
    bytes: rows.reduce((sum, row) => sum + (row.thumbnail_length ?? 0), 0),
  };
}

/** The media parts of the overview, as of `now`. */
export function expectedMediaOverview(
  dataset: StorageDataset,
  now: number,
): { local_media: LocalMediaUsage; remote_media: RemoteMediaUsage } {
  const urlCache = { count: 0, bytes: 0 };
  for (const row of dataset.local) if (row.url_cache != null) add(urlCache, row);
  const origins = new Set(dataset.remote.flatMap((row) => row.media_origin ?? []));
  return {
    local_media: {
      // As insertMedia stores them: an unset content type is a PNG.
      ...mediaFigures(
        dataset.local.map((row) => ({
          ...row,
          media_type: row.media_type === undefined ? "image/png" : row.media_type,
        })),
        now,
      ),
      thumbnails: thumbnailTotals(dataset.localThumbnails),
      url_cache: urlCache,
    },
    remote_media: {
      ...mediaFigures(dataset.remote, now),
      thumbnails: thumbnailTotals(dataset.remoteThumbnails),
      origins: origins.size,
    },
  };
}

export interface OriginsQuery {
  from?: number;
  limit?: number;
  order_by?: "origin" | "media_count" | "media_length";
  dir?: "f" | "b";
  search_term?: string;
}

/** One page of origins as the endpoint should answer it. */
export function expectedRemoteOrigins(
  dataset: StorageDataset,
  query: OriginsQuery,
): RemoteOriginsResponse {
  const from = query.from ?? 0;
  const limit = query.limit ?? 100;
  const term = query.search_term === undefined ? undefined : asciiLower(query.search_term);
  const matches = (origin: string | null): origin is string =>
    origin !== null && (term === undefined || asciiLower(origin).includes(term));
  const byOrigin = new Map<string, RemoteOriginUsage>();
  for (const row of dataset.remote) {
    if (!matches(row.media_origin)) continue;
    const usage = byOrigin.get(row.media_origin) ?? {
      origin: row.media_origin,
      media_count: 0,
      media_length: 0,
      thumbnail_length: 0,
      first_fetched_ts: null,
      last_fetched_ts: null,
    };
    usage.media_count += 1;
    usage.media_length += row.media_length ?? 0;
    if (row.created_ts !== null) {
      usage.first_fetched_ts = Math.min(usage.first_fetched_ts ?? Infinity, row.created_ts);
      usage.last_fetched_ts = Math.max(usage.last_fetched_ts ?? -Infinity, row.created_ts);
    }
    byOrigin.set(row.media_origin, usage);
  }
  // Thumbnails count for an origin listed for its media, whichever media they belong to.
  for (const thumbnail of dataset.remoteThumbnails) {
    const usage =
      thumbnail.media_origin === null ? undefined : byOrigin.get(thumbnail.media_origin);
    if (usage) usage.thumbnail_length += thumbnail.thumbnail_length ?? 0;
  }
  const sign = query.dir === "b" ? -1 : 1;
  const orderBy = query.order_by ?? "origin";
  const origins = [...byOrigin.values()].sort((a, b) => {
    const primary = orderBy === "origin" ? 0 : a[orderBy] - b[orderBy];
    return sign * (primary !== 0 ? primary : compareBytes(a.origin, b.origin));
  });
  const page = origins.slice(from, from + limit);
  const response: RemoteOriginsResponse = { origins: page, total: origins.length };
  if (from + limit < origins.length) response.next_token = from + page.length;
  return response;
}

export interface LargestQuery {
  source?: "local" | "remote";
  from?: number;
  limit?: number;
  user_id?: string;
  origin?: string;
  from_ts?: number;
  until_ts?: number;
}

/** One page of the largest media as the endpoint should answer it. */
export function expectedLargestMedia(
  dataset: StorageDataset,
  query: LargestQuery,
): LargestMediaResponse {
  const from = query.from ?? 0;
  const limit = query.limit ?? 100;
  const fromTs = query.from_ts ?? 0;
  const inWindow = (ts: number | null): boolean =>
    (fromTs === 0 || (ts !== null && ts >= fromTs)) &&
    (query.until_ts === undefined || (ts !== null && ts <= query.until_ts));
  const bySize = (a: { media_length: number | null }, b: { media_length: number | null }) =>
    a.media_length === null || b.media_length === null
      ? a.media_length === b.media_length
        ? 0
        : a.media_length === null
          ? 1
          : -1
      : b.media_length - a.media_length;

  // The columns both tables share, as the endpoint lists them; an unset type is what the
  // seeder stores (insertMedia: a PNG; insertRemoteMedia: NULL).
  const common = (
    row: MediaLike & { media_id: string; last_access_ts?: number | null },
    unsetType: string | null,
  ) => ({
    media_id: row.media_id,
    media_type: row.media_type === undefined ? unsetType : row.media_type,
    media_length: row.media_length,
    created_ts: row.created_ts,
    last_access_ts: row.last_access_ts ?? null,
    quarantined_by: row.quarantined_by ?? null,
  });
  const listed: Array<LargestLocalMedia | LargestRemoteMedia> =
    query.source === "remote"
      ? dataset.remote
          .filter((row) => query.origin === undefined || row.media_origin === query.origin)
          .filter((row) => inWindow(row.created_ts))
          .map((row) => ({ ...common(row, null), origin: row.media_origin }))
          .sort(
            (a, b) =>
              bySize(a, b) ||
              compareNullLast(a.origin, b.origin) ||
              compareBytes(a.media_id, b.media_id),
          )
      : dataset.local
          .filter((row) => query.user_id === undefined || row.user_id === query.user_id)
          .filter((row) => inWindow(row.created_ts))
          .map((row) => ({ ...common(row, "image/png"), user_id: row.user_id }))
          .sort((a, b) => bySize(a, b) || compareBytes(a.media_id, b.media_id));
  const page = listed.slice(from, from + limit);
  const response: LargestMediaResponse = { media: page, total: listed.length };
  if (from + limit < listed.length) response.next_token = from + page.length;
  return response;
}
