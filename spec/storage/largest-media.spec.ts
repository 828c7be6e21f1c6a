// The largest media, local and remote, against the oracle on every database variant: filters by
// uploader, origin and time, paging, unknown lengths last and ties in a stable order.

import { insertStorageDataset, randomStorageDataset } from "../../fixtures";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { largest } from "../helpers/largest-media-request";
import { expectedLargestMedia, type LargestQuery } from "../helpers/storage-oracle";

describe.each(DATABASE_VARIANTS)("largest media on $name", (variant) => {
  const now = Date.now();
  const dataset = randomStorageDataset({ seed: 31337, now });
  const db = useTestDatabase(variant, (knex) => insertStorageDataset(knex, dataset));
  const monthAgo = now - 31 * 24 * 3600 * 1000;
  const yearAgo = now - 365 * 24 * 3600 * 1000;

  test.each<LargestQuery>([
    {},
    { limit: 7 },
    { from: 5, limit: 10 },
    { user_id: "@alice:test" },
    { user_id: "@nobody:test" },
    { from_ts: yearAgo },
    { until_ts: monthAgo },
    { from_ts: yearAgo, until_ts: monthAgo, user_id: "@bob:test", limit: 3, from: 1 },
    { source: "local", from: 10_000 },
  ])("local media %j equal the oracle", async (query) => {
    expect(await largest(db.current.knex, query)).toEqual(expectedLargestMedia(dataset, query));
  });

  test.each<LargestQuery>([
    { source: "remote" },
    { source: "remote", limit: 4, from: 3 },
    { source: "remote", origin: "matrix.org" },
    { source: "remote", origin: "Example.COM", from_ts: yearAgo },
    { source: "remote", origin: "example.com" },
    { source: "remote", until_ts: monthAgo },
  ])("remote media %j equal the oracle", async (query) => {
    expect(await largest(db.current.knex, query)).toEqual(expectedLargestMedia(dataset, query));
  });

  test("media of unknown length come after all others, and 0 bytes before them", async () => {
    const { media } = await largest(db.current.knex, { limit: 1000 });
    const lengths = media.map((row) => row.media_length);
    const firstUnknown = lengths.indexOf(null);
    expect(firstUnknown).toBeGreaterThan(0);
    expect(lengths.slice(firstUnknown).every((length) => length === null)).toBe(true);
    expect(lengths[firstUnknown - 1]).toBe(0);
  });

  test("ties in size are broken by media ID (remote: origin first, NULL origins last)", async () => {
    const { media } = await largest(db.current.knex, { source: "remote", limit: 1000 });
    const ofSize = media.filter((row) => row.media_length === 2048);
    expect(ofSize.length).toBeGreaterThan(2);
    const origins = ofSize.map((row) => ("origin" in row ? row.origin : undefined));
    expect(origins.indexOf(null)).toBeGreaterThanOrEqual(origins.lastIndexOf("zz.example"));
  });

  test("each row carries the IDs and the state Synapse's media admin APIs work with", async () => {
    const [top] = (await largest(db.current.knex, { limit: 1 })).media;
    expect(top).toEqual({
      media_id: "Ltie-a",
      user_id: "@bob:test",
      media_type: "tie/a",
      media_length: 2_147_483_647,
      created_ts: null,
      last_access_ts: null,
      quarantined_by: null,
    });
    const quarantined = dataset.local.find((row) => row.quarantined_by != null);
    const { media } = await largest(db.current.knex, { limit: 1000 });
    expect(media.find((row) => row.media_id === quarantined?.media_id)?.quarantined_by).toBe(
      "@admin:test",
    );
  });
});
