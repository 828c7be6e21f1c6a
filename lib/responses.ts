// JSON schemas of what the endpoints answer: the OpenAPI document publishes them and the tests
// hold every response to them.

import { Errcode } from "./errors";

// Plain schemas: ajv's JSONSchemaType cannot express a required property that may be null
// (`displayname`), so these are held to the types by the tests that validate real responses.

export const usersMediaResponseSchema = {
  type: "object",
  properties: {
    users: {
      type: "array",
      items: {
        type: "object",
        properties: {
          user_id: { type: "string" },
          displayname: { type: ["string", "null"] },
          media_count: { type: "integer", minimum: 0 },
          media_length: { type: "integer", minimum: 0 },
        },
        required: ["user_id", "displayname", "media_count", "media_length"],
        additionalProperties: false,
      },
    },
    total: { type: "integer", minimum: 0 },
    next_token: { type: "integer", minimum: 0 },
  },
  required: ["users", "total"],
  additionalProperties: false,
} as const;

export const matrixErrorSchema = {
  type: "object",
  properties: {
    errcode: { type: "string", enum: Object.values(Errcode) },
    error: { type: "string" },
  },
  required: ["errcode", "error"],
  additionalProperties: false,
} as const;

export const largestRoomsResponseSchema = {
  type: "object",
  properties: {
    rooms: {
      type: "array",
      maxItems: 10,
      items: {
        type: "object",
        properties: {
          room_id: { type: "string" },
          estimated_size: { type: "integer", minimum: 0 },
        },
        required: ["room_id", "estimated_size"],
        additionalProperties: false,
      },
    },
  },
  required: ["rooms"],
  additionalProperties: false,
} as const;
