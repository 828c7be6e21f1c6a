// The sample estimator's two pure pieces: how big a sample to take, and identifier quoting.

import type { RoomTableRow } from "../../lib/storage/rooms-catalogue";
import { quoteIdentifier, samplePercent } from "../../lib/storage/rooms-sample";

const table = (facts: Partial<RoomTableRow>): RoomTableRow => ({
  wanted: "events",
  schema_name: "public",
  table_name: "events",
  partitioned: false,
  total_bytes: "0",
  heap_bytes: "0",
  block_size: 8192,
  reltuples: -1,
  relpages: 0,
  has_room_id: true,
  columns: ["room_id"],
  statistics_hidden_by: null,
  rows_hidden_by: null,
  role_name: "synapse",
  ...facts,
});

describe("sample size", () => {
  test("a table of up to 30,000 rows is read whole", () => {
    expect(
      samplePercent(
        table({ reltuples: 30_000, relpages: 300, heap_bytes: String(300 * 8192) }),
        30_000,
      ),
    ).toBe(100);
  });

  test("a larger table is sampled to about 30,000 rows", () => {
    expect(
      samplePercent(
        table({ reltuples: 3_000_000, relpages: 30_000, heap_bytes: String(30_000 * 8192) }),
        30_000,
      ),
    ).toBeCloseTo(1);
  });

  test("a table that grew since its last VACUUM or ANALYZE is counted at its size now", () => {
    // Analysed at 1M rows on 10,000 pages; now twice the pages: about 2M rows.
    expect(
      samplePercent(
        table({ reltuples: 1_000_000, relpages: 10_000, heap_bytes: String(20_000 * 8192) }),
        30_000,
      ),
    ).toBeCloseTo(1.5);
  });

  test("a table never vacuumed nor analysed is counted at 100 bytes a row", () => {
    expect(samplePercent(table({ heap_bytes: String(3_000_000) }), 30_000)).toBe(100);
    expect(samplePercent(table({ heap_bytes: String(30_000_000) }), 30_000)).toBeCloseTo(10);
  });

  test("a table analysed while empty and filled since falls back to the heap's size too", () => {
    expect(
      samplePercent(table({ reltuples: 0, relpages: 0, heap_bytes: String(30_000_000) }), 30_000),
    ).toBeCloseTo(10);
  });
});

describe("identifier quoting", () => {
  test.each([
    ["room_id", '"room_id"'],
    ["Mixed Case", '"Mixed Case"'],
    ['a"b', '"a""b"'],
    ['"; DROP TABLE events; --', '"""; DROP TABLE events; --"'],
  ])("%j is quoted as %s", (name, quoted) => {
    expect(quoteIdentifier(name)).toBe(quoted);
  });
});
