// The public API of synapse-admin-statistics.

export { createStatisticsRouter, STATISTICS_PATHS } from "./router";
export {
  synapseAccessTokenAuth,
  type SynapseAccessTokenAuthOptions,
} from "./synapse-access-token-auth";
export { synapseDelegatedAuth, type SynapseDelegatedAuthOptions } from "./synapse-delegated-auth";
export { MatrixError, Errcode, type MatrixErrorBody } from "./errors";
export { consoleLogger, silentLogger, type Logger } from "./logger";
export { usersMediaQuerySchema, type UsersMediaQuery } from "./params/users-media";
export {
  usersMediaResponseSchema,
  largestRoomsResponseSchema,
  matrixErrorSchema,
} from "./responses";
export { buildOpenApiDocument, type OpenApiOptions } from "./openapi";
export { roomsQuerySchema, type RoomsQuery } from "./params/rooms";
export {
  detectMediaUsageSummary,
  installMediaUsageSummary,
  uninstallMediaUsageSummary,
  verifyMediaUsageSummary,
  MEDIA_USAGE_SUMMARY_TABLE,
  MediaUsageSummaryError,
  type MediaUsageDrift,
  type MediaUsageSummaryFailure,
  type MediaUsageSummaryInstallResult,
  type MediaUsageSummaryReport,
  type MediaUsageTotals,
} from "./summary/media-usage-summary";
export type {
  AuthCheck,
  Requester,
  StatisticsRouterOptions,
  UserMediaUsage,
  UsersMediaResponse,
  LargestRoomsResponse,
  RoomsEstimator,
} from "./types";
