// The storage functions run on whatever knex they are handed per call: the pool, or a
// transaction a request already runs in (read-only, with its own snapshot), with one answer.

import { insertStorageDataset, randomStorageDataset } from "../../fixtures";
import { readLargestMedia, type LargestMediaFilter } from "../../lib/storage/largest-media";
import { readRemoteOrigins, type RemoteOriginsFilter } from "../../lib/storage/remote-origins";
import { readStorageOverview } from "../../lib/storage/storage-overview";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/databases";

const ORIGINS: RemoteOriginsFilter = {
  from: 0,
  limit: 5,
  orderBy: "media_length",
  direction: "b",
  searchTerm: "example",
};
const LARGEST: LargestMediaFilter = {
  source: "remote",
  from: 2,
  limit: 5,
  userId: undefined,
  origin: "matrix.org",
  fromTs: 0,
  untilTs: undefined,
};

describe.each(DATABASE_KINDS)("storage functions on %s", (kind) => {
  const now = Date.now();
  const db = useTestDatabase(kind, (knex) =>
    insertStorageDataset(knex, randomStorageDataset({ seed: 77, now })),
  );

  test("answer the same on the pool and inside a caller's read-only transaction", async () => {
    const knex = db.current.knex;
    const read = (on: typeof knex) =>
      Promise.all([
        readStorageOverview({ db: on, dialect: kind }, { now }),
        readRemoteOrigins(on, kind, ORIGINS),
        readLargestMedia(on, kind, LARGEST),
      ]);
    const onPool = await read(knex);
    const inTransaction = await knex.transaction(async (trx) => {
      // Read committed, as a request's own transaction would be: its isolation is its own.
      if (kind === "postgres") await trx.raw("SET TRANSACTION READ ONLY");
      // One at a time: a transaction is one connection.
      const overview = await readStorageOverview({ db: trx, dialect: kind }, { now });
      return [
        overview,
        await readRemoteOrigins(trx, kind, ORIGINS),
        await readLargestMedia(trx, kind, LARGEST),
      ] as const;
    });
    expect(inTransaction).toEqual(onPool);
    expect(onPool[2].media.length).toBe(5);
  });
});
