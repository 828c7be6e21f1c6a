// What every Matrix answer of the router looks like: the error shape and Synapse's CORS headers.

import type request from "supertest";

/** The CORS headers Synapse sends, as supertest reports them (lower-case names). */
export const SYNAPSE_CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers": "X-Requested-With, Content-Type, Authorization, Date",
};

/** A JSON Matrix error with this status and errcode (and, when given, this message). */
export function expectMatrixError(
  res: request.Response,
  status: number,
  errcode: string,
  error?: string,
): void {
  expect({ status: res.status, errcode: res.body.errcode }).toEqual({ status, errcode });
  expect(typeof res.body.error).toBe("string");
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  if (error !== undefined) expect(res.body.error).toBe(error);
}
