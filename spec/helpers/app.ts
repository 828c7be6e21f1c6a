// Mounts the router at /_synapse/admin in a throwaway express app, of either major version.

import express5 from "express";
import express4 from "express4";
import type { Knex } from "knex";
import { createStatisticsRouter, synapseAccessTokenAuth } from "../../lib";
import type { Logger } from "../../lib/logger";
import type { StatisticsRouterOptions } from "../../lib/types";
import { captureLog } from "./test-run";

export type ExpressMajor = "express5" | "express4";
export const EXPRESS_MAJORS: readonly ExpressMajor[] = ["express5", "express4"];

export { LARGEST_ROOMS, USERS_MEDIA } from "./paths";

export interface TestAppOptions extends Partial<StatisticsRouterOptions> {
  knex: Knex;
  express?: ExpressMajor;
}

/** A bare express app of the given major, for tests that set the host app up themselves. */
export function createHostApp(major: ExpressMajor = "express5"): express5.Express {
  return (major === "express4" ? express4() : express5()) as unknown as express5.Express;
}

/** The router with test defaults: Synapse's token tables and a logger that keeps quiet. */
export function createTestRouter(options: Omit<TestAppOptions, "express">): express5.Router {
  const logger = options.logger ?? recordingLogger().logger;
  return createStatisticsRouter({
    authCheck: synapseAccessTokenAuth(options.knex, { logger }),
    logger,
    ...options,
  });
}

export function createTestApp(options: TestAppOptions): express5.Express {
  const { express: major = "express5", ...routerOptions } = options;
  const app = createHostApp(major);
  app.use("/_synapse/admin", createTestRouter(routerOptions));
  return app;
}

export interface LogRecord {
  level: keyof Logger;
  details: Record<string, unknown>;
  message: string;
}

/** A logger that keeps what it is told, for tests that check what reaches the log. */
export function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const record =
    (level: keyof Logger) =>
    (details: Record<string, unknown>, message: string): void => {
      records.push({ level, details, message });
      captureLog("router", JSON.stringify({ level, message, ...details }));
    };
  return {
    logger: { error: record("error"), warn: record("warn"), info: record("info") },
    records,
  };
}
