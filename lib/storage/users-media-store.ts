// The users' media storage for one database: learns its schema on first use, then serves pages.

import type { Knex } from "knex";
import type { Dialect } from "./dialect";
import { probeMediaSchema, type MediaSchema } from "./media-schema";
import { getUsersMediaPage, type UsersMediaFilter, type UsersMediaPage } from "./users-media";

export interface UsersMediaStore {
  page(filter: UsersMediaFilter): Promise<UsersMediaPage>;
}

export function createUsersMediaStore(db: Knex, dialect: Dialect): UsersMediaStore {
  // Kept only once the probe succeeds: a database that is down, or not migrated yet, is
  // probed again on the next request.
  let schema: Promise<MediaSchema> | undefined;
  const currentSchema = (): Promise<MediaSchema> => {
    if (schema === undefined) {
      const probing = probeMediaSchema(db, dialect);
      schema = probing;
      probing.catch(() => {
        if (schema === probing) schema = undefined;
      });
    }
    return schema;
  };
  return {
    async page(filter) {
      return getUsersMediaPage(db, dialect, await currentSchema(), filter);
    },
  };
}
