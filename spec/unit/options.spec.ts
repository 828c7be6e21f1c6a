// The router's options are checked once, at creation: a TypeError names what is wrong.

import type { Knex } from "knex";
import { openSqlite } from "../../fixtures";
import { createStatisticsRouter } from "../../lib";
import { detectDialect } from "../../lib/dialect";
import type { StatisticsRouterOptions } from "../../lib/types";

const fakeKnex = (dialect: string, driverName: string): Knex =>
  Object.assign(() => undefined, { client: { dialect, driverName } }) as unknown as Knex;

describe("router options", () => {
  const knex = openSqlite();
  afterAll(() => knex.destroy());
  const authCheck = () => null;
  const create = (options: unknown) => () =>
    createStatisticsRouter(options as StatisticsRouterOptions);

  test("valid options create a router", () => {
    expect(typeof createStatisticsRouter({ knex, authCheck })).toBe("function");
  });

  test.each<[string, unknown, RegExp]>([
    ["options missing", undefined, /options must be an object/],
    ["knex missing", { authCheck }, /option "knex" is required/],
    ["knex not a knex instance", { knex: {}, authCheck }, /option "knex" must be a knex instance/],
    [
      "knex a connection string",
      { knex: "postgres://x", authCheck },
      /option "knex" must be a knex instance/,
    ],
    ["authCheck missing", { knex }, /option "authCheck" is required/],
    [
      "authCheck not a function",
      { knex, authCheck: "admin" },
      /option "authCheck" must be a function/,
    ],
    [
      "stateKnex not a knex instance",
      { knex, authCheck, stateKnex: 5 },
      /option "stateKnex" must be a knex instance/,
    ],
    ["cors not a boolean", { knex, authCheck, cors: "yes" }, /option "cors" must be a boolean/],
    [
      "logger without methods",
      { knex, authCheck, logger: { log() {} } },
      /option "logger" must have error, warn and info/,
    ],
    ["an unknown option", { knex, authCheck, corsOrigin: "*" }, /unknown option "corsOrigin"/],
    [
      "roomsEstimator not an estimator",
      { knex, authCheck, roomsEstimator: "exact" },
      /option "roomsEstimator" must be "planner" or "sample"/,
    ],
    [
      "roomsEstimator not a string",
      { knex, authCheck, roomsEstimator: 1 },
      /option "roomsEstimator" must be "planner" or "sample"/,
    ],
    [
      "sampleStatementTimeoutMs zero",
      { knex, authCheck, sampleStatementTimeoutMs: 0 },
      /option "sampleStatementTimeoutMs" must be a positive integer/,
    ],
    [
      "sampleStatementTimeoutMs negative",
      { knex, authCheck, sampleStatementTimeoutMs: -5 },
      /option "sampleStatementTimeoutMs" must be a positive integer/,
    ],
    [
      "sampleStatementTimeoutMs fractional",
      { knex, authCheck, sampleStatementTimeoutMs: 1.5 },
      /option "sampleStatementTimeoutMs" must be a positive integer/,
    ],
    [
      "sampleStatementTimeoutMs a string",
      { knex, authCheck, sampleStatementTimeoutMs: "1000" },
      /option "sampleStatementTimeoutMs" must be a positive integer/,
    ],
    [
      "sampleStatementTimeoutMs beyond PostgreSQL's limit",
      { knex, authCheck, sampleStatementTimeoutMs: 2 ** 31 },
      /option "sampleStatementTimeoutMs".*at most 2147483647/,
    ],
    [
      "a MySQL knex",
      { knex: fakeKnex("mysql", "mysql2"), authCheck },
      /must use PostgreSQL \(pg\) or SQLite.*not mysql\/mysql2/,
    ],
    [
      "a CockroachDB knex",
      { knex: fakeKnex("postgresql", "cockroachdb"), authCheck },
      /not postgresql\/cockroachdb/,
    ],
  ])("%s throws a TypeError naming it", (_name, options, message) => {
    expect(create(options)).toThrow(TypeError);
    expect(create(options)).toThrow(message);
  });

  test("undefined optional options mean their defaults", () => {
    expect(() =>
      createStatisticsRouter({
        knex,
        authCheck,
        stateKnex: undefined,
        cors: undefined,
        logger: undefined,
        roomsEstimator: undefined,
        sampleStatementTimeoutMs: undefined,
      }),
    ).not.toThrow();
  });

  test.each<[string, Partial<StatisticsRouterOptions>]>([
    ["roomsEstimator planner", { roomsEstimator: "planner" }],
    ["roomsEstimator sample", { roomsEstimator: "sample" }],
    ["the shortest sampleStatementTimeoutMs", { sampleStatementTimeoutMs: 1 }],
    ["the longest sampleStatementTimeoutMs", { sampleStatementTimeoutMs: 2_147_483_647 }],
  ])("%s is accepted", (_name, extra) => {
    expect(() => createStatisticsRouter({ knex, authCheck, ...extra })).not.toThrow();
  });
});

describe("dialect detection", () => {
  test.each([
    ["postgresql", "pg", "postgres"],
    ["postgresql", "pgnative", "postgres"],
    ["postgresql", "cockroachdb", undefined],
    ["redshift", "pg-redshift", undefined],
    ["sqlite3", "sqlite3", "sqlite"],
    ["sqlite3", "better-sqlite3", undefined],
    ["mysql", "mysql2", undefined],
  ])("%s/%s is %s", (dialect, driverName, expected) => {
    expect(detectDialect(fakeKnex(dialect, driverName))).toBe(expected);
  });
});
