// The largest media read every way the page can be planned, against the oracle: through a
// floor on the length from the database's statistics (PostgreSQL) or a sample of row IDs
// (SQLite), with the count in the same pass, falling back when too few rows clear the floor,
// by a scan for an owner of many media and through the index for an owner of few.

import { insertStorageDataset, randomStorageDataset, type StorageDataset } from "../../fixtures";
import { DATABASE_VARIANTS, useTestDatabase } from "../helpers/databases";
import { largest } from "../helpers/largest-media-request";
import { expectedLargestMedia, type LargestQuery } from "../helpers/storage-oracle";

/**
 * The edge cases of the random data set at a size where floors pay, most lengths spread out
 * (statistics then have a histogram) and one uploader and one origin with a few small media.
 */
function plannedDataset(now: number): StorageDataset {
  const dataset = randomStorageDataset({ seed: 4242, now, localMedia: 3000, remoteMedia: 6000 });
  const spread = <Row extends { media_length: number | null }>(row: Row, index: number): Row =>
    index % 5 === 0 ? row : { ...row, media_length: (index * 7919) % 10_000_000 };
  dataset.local = dataset.local.map(spread);
  dataset.remote = dataset.remote.map(spread);
  for (let index = 0; index < 40; index++) {
    dataset.local.push({
      media_id: `Lrare${index}`,
      user_id: "@rare:test",
      media_length: index % 7,
      created_ts: now - index * 1000,
      media_type: "image/png",
    });
    dataset.remote.push({
      media_origin: "rare.example",
      media_id: `Rrare${index}`,
      media_length: index % 3 === 0 ? null : index,
      created_ts: now - index * 1000,
      media_type: "image/png",
    });
  }
  return dataset;
}

describe.each(DATABASE_VARIANTS)("largest media, every plan, on $name", (variant) => {
  const now = Date.now();
  const dataset = plannedDataset(now);
  const db = useTestDatabase(variant, async (knex) => {
    await insertStorageDataset(knex, dataset);
    // PostgreSQL's floor comes from the statistics ANALYZE gathers.
    await knex.raw("ANALYZE");
  });
  const yearAgo = now - 365 * 24 * 3600 * 1000;
  const monthAgo = now - 31 * 24 * 3600 * 1000;

  test.each<LargestQuery>([
    // Whole tables: a floor, and on SQLite the count in the same pass.
    { limit: 10 },
    { limit: 3, from: 7 },
    { source: "remote", limit: 10 },
    { source: "remote", limit: 5, from: 20 },
    // Pages the floor cannot serve: deep, or reaching the media of unknown length.
    { limit: 50, from: 2_950 },
    { source: "remote", limit: 100, from: 5_900 },
    // A time window: a floor, and on SQLite a scan rather than the index.
    { from_ts: yearAgo, until_ts: monthAgo, limit: 10 },
    { source: "remote", from_ts: yearAgo, limit: 4, from: 2 },
    // A window too narrow for the floor: read again without it.
    { from_ts: now - 20_000, limit: 10 },
    { source: "remote", from_ts: now - 20_000, until_ts: now, limit: 3 },
    // Owners of many media (a scan) and of few (the index; the floor excludes them all).
    { user_id: "@alice:test", limit: 10 },
    { source: "remote", origin: "matrix.org", limit: 10, from: 3 },
    { user_id: "@rare:test", limit: 10 },
    { user_id: "@rare:test", from_ts: now - 20_000, limit: 5, from: 2 },
    { source: "remote", origin: "rare.example", limit: 30 },
  ])("%j equals the oracle", async (query) => {
    expect(await largest(db.current.knex, query)).toEqual(expectedLargestMedia(dataset, query));
  });
});

/**
 * Floors that let too few rows through, so the page is read again without them: on SQLite
 * every tenth row (the ones its sample reads) holds the large media; on PostgreSQL an
 * uploader's media are all smaller than the table's floor.
 */
function misleadingDataset(now: number): StorageDataset {
  const local: StorageDataset["local"] = [];
  for (let index = 0; index < 10_000; index++) {
    local.push({
      media_id: `M${index.toString().padStart(5, "0")}`,
      user_id: "@many:test",
      media_length: (index + 1) % 10 === 0 ? 1_000_000 + index : index % 1000,
      created_ts: now - index,
      media_type: "image/jpeg",
    });
  }
  for (let index = 0; index < 300; index++) {
    local.push({
      media_id: `S${index.toString().padStart(3, "0")}`,
      user_id: "@small:test",
      media_length: index,
      created_ts: now - index,
      media_type: "image/jpeg",
    });
  }
  return { local, localThumbnails: [], remote: [], remoteThumbnails: [] };
}

describe.each(DATABASE_VARIANTS)("largest media past a misleading floor on $name", (variant) => {
  const dataset = misleadingDataset(Date.now());
  const db = useTestDatabase(variant, async (knex) => {
    await insertStorageDataset(knex, dataset);
    await knex.raw("ANALYZE");
  });

  test.each<LargestQuery>([
    { limit: 100 },
    { limit: 20, from: 80 },
    { user_id: "@small:test", limit: 10 },
  ])("%j equals the oracle", async (query) => {
    expect(await largest(db.current.knex, query)).toEqual(expectedLargestMedia(dataset, query));
  });
});
