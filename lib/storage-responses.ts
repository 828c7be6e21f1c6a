// JSON schemas of what the storage endpoints answer: the OpenAPI document publishes them and
// the tests hold every response to them. Plain schemas, like those of responses.ts: fields
// that are required and may be null are beyond ajv's JSONSchemaType.

const integer = { type: "integer", minimum: 0 } as const;
const nullableInteger = { type: ["integer", "null"], minimum: 0 } as const;
const nullableString = { type: ["string", "null"] } as const;

const object = (properties: Record<string, object>) =>
  ({
    type: "object",
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  }) as const;

const countAndBytes = object({ count: integer, bytes: integer });

const tableSize = object({
  schema: { ...nullableString, description: "The schema (PostgreSQL); null on SQLite." },
  table: { type: "string" },
  total_bytes: integer,
  table_bytes: integer,
  index_bytes: integer,
  toast_bytes: { ...nullableInteger, description: "null on SQLite, which has no TOAST." },
  rows: {
    ...nullableInteger,
    description: "PostgreSQL: the planner's estimate, null if never analysed; SQLite: exact.",
  },
});

const databaseUsage = object({
  size_bytes: integer,
  largest_tables: {
    type: ["array", "null"],
    maxItems: 20,
    items: tableSize,
    description: "Largest first; null when the database cannot tell (SQLite without dbstat).",
  },
});

const mediaFigures = {
  count: integer,
  bytes: integer,
  quarantined: countAndBytes,
  thumbnails: countAndBytes,
  content_types: {
    type: "array",
    maxItems: 10,
    items: object({ content_type: nullableString, count: integer, bytes: integer }),
    description: "The content types with the most bytes, most first.",
  },
  monthly: {
    type: "array",
    minItems: 24,
    maxItems: 24,
    items: object({
      month: { type: "string", pattern: "^[0-9]{4}-[0-9]{2}$" },
      count: integer,
      bytes: integer,
    }),
    description: "The last 24 calendar months (UTC), oldest first, months without media as zeros.",
  },
};

export const storageOverviewResponseSchema = object({
  generated_at: { ...integer, description: "When the figures were read (ms since the epoch)." },
  database: object({
    engine: { type: "string", enum: ["postgresql", "sqlite"] },
    main: databaseUsage,
    state: {
      anyOf: [databaseUsage, { type: "null" }],
      description: "The state database when it is split off from the main one.",
    },
  }),
  local_media: object({ ...mediaFigures, url_cache: countAndBytes }),
  remote_media: object({ ...mediaFigures, origins: integer }),
  accuracy: {
    type: "object",
    additionalProperties: { type: "string", enum: ["exact", "estimated", "unavailable"] },
    description:
      "For every figure, by its path in this document ([] for every element of an array): exact, estimated or unavailable.",
  },
  notes: { type: "array", items: { type: "string" } },
});

const page = (name: string, item: object) =>
  ({
    type: "object",
    properties: {
      [name]: { type: "array", items: item },
      total: integer,
      next_token: integer,
    },
    required: [name, "total"],
    additionalProperties: false,
  }) as const;

export const remoteOriginsResponseSchema = page(
  "origins",
  object({
    origin: { type: "string" },
    media_count: integer,
    media_length: integer,
    thumbnail_length: integer,
    first_fetched_ts: nullableInteger,
    last_fetched_ts: nullableInteger,
  }),
);

const listedMedia = {
  media_id: { type: "string" },
  media_type: nullableString,
  media_length: nullableInteger,
  created_ts: nullableInteger,
  last_access_ts: nullableInteger,
  quarantined_by: nullableString,
};

export const largestMediaResponseSchema = page("media", {
  oneOf: [
    object({ ...listedMedia, user_id: nullableString }),
    object({ ...listedMedia, origin: nullableString }),
  ],
});
