// A summary as 0.1 and 0.2 installed it: the per-user part alone, without the storage part.

import type { Knex } from "knex";
import { installMediaUsageSummary } from "../../lib";
import { dropStoragePart } from "../../lib/summary/storage-part";
import type { DatabaseKind } from "../helpers/databases";

/** Installs the summary as 0.2 did: the per-user part only. */
export async function installOlderSummary(knex: Knex, kind: DatabaseKind): Promise<void> {
  await installMediaUsageSummary(knex);
  await dropStoragePart(knex, kind);
}

export { dropStoragePart };
