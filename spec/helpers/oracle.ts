// The users' media answer computed in plain TypeScript from the seeded rows: an independent
// statement of the contract that the SQL on both backends is checked against.

import { localpartOf, type MediaDataset } from "../../fixtures";
import type { UserMediaUsage, UsersMediaResponse } from "../../lib/types";

export interface OracleQuery {
  from?: number;
  limit?: number;
  from_ts?: number;
  until_ts?: number;
  order_by?: "user_id" | "displayname" | "media_length" | "media_count";
  dir?: "f" | "b";
  search_term?: string;
}

const asciiLower = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Byte order of the UTF-8 encodings, which is what both databases compare by. */
export const compareBytes = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

export function expectedUsersMedia(dataset: MediaDataset, query: OracleQuery): UsersMediaResponse {
  const from = query.from ?? 0;
  const limit = query.limit ?? 100;
  const fromTs = query.from_ts ?? 0;
  const displaynames = new Map(dataset.profiles.map((p) => [p.userId, p.displayname]));
  const perUser = new Map<string, UserMediaUsage>();
  for (const row of dataset.media) {
    if (row.user_id === null) continue;
    if (fromTs > 0 && (row.created_ts === null || row.created_ts < fromTs)) continue;
    if (
      query.until_ts !== undefined &&
      (row.created_ts === null || row.created_ts > query.until_ts)
    ) {
      continue;
    }
    if (query.search_term !== undefined) {
      const term = asciiLower(query.search_term);
      const displayname = displaynames.get(row.user_id);
      const matches =
        asciiLower(localpartOf(row.user_id)).includes(term) ||
        (displayname != null && asciiLower(displayname).includes(term));
      if (!matches) continue;
    }
    const usage = perUser.get(row.user_id) ?? {
      user_id: row.user_id,
      displayname: displaynames.get(row.user_id) ?? null,
      media_count: 0,
      media_length: 0,
    };
    usage.media_count += 1;
    usage.media_length += row.media_length ?? 0;
    perUser.set(row.user_id, usage);
  }

  const sign = query.dir === "b" ? -1 : 1;
  const orderBy = query.order_by ?? "user_id";
  const users = [...perUser.values()].sort((a, b) => {
    let primary = 0;
    if (orderBy === "displayname") {
      // NULL is the largest value: last forwards, first backwards.
      if (a.displayname === null || b.displayname === null) {
        primary = a.displayname === b.displayname ? 0 : a.displayname === null ? 1 : -1;
      } else {
        primary = compareBytes(a.displayname, b.displayname);
      }
    } else if (orderBy === "media_length" || orderBy === "media_count") {
      primary = a[orderBy] - b[orderBy];
    }
    return sign * (primary !== 0 ? primary : compareBytes(a.user_id, b.user_id));
  });

  const total = users.length;
  const page = users.slice(from, from + limit);
  const response: UsersMediaResponse = { users: page, total };
  if (from + limit < total) response.next_token = from + page.length;
  return response;
}
