// A database with the summary installed, for a describe block whose every test must leave the
// summary equal to the media table's aggregate, however it changed the media.

import type { Knex } from "knex";
import { insertMedia, type MediaRow } from "../../fixtures";
import { installMediaUsageSummary, verifyMediaUsageSummary } from "../../lib";
import { useTestDatabase, type DatabaseKind } from "../helpers/databases";
import { expectedSummaryRows, summaryRows } from "../helpers/media-usage";

/** Seeds `media`, installs the summary, and checks it after each test; answers the database's knex. */
export function useExactSummary(kind: DatabaseKind, media: MediaRow[]): () => Knex {
  const db = useTestDatabase(kind, async (knex) => {
    await insertMedia(knex, media);
    await installMediaUsageSummary(knex);
  });
  afterEach(async () => {
    const { knex } = db.current;
    expect(await summaryRows(knex)).toEqual(await expectedSummaryRows(knex));
    expect(await verifyMediaUsageSummary(knex)).toMatchObject({ drift: [], driftedUsers: 0 });
  });
  return () => db.current.knex;
}
