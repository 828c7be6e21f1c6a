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
export { EXTENSION_NAMESPACE } from "./endpoints/namespace";
export { remoteOriginsQuerySchema, type RemoteOriginsQuery } from "./params/remote-origins";
export { largestMediaQuerySchema, type LargestMediaQuery } from "./params/largest-media";
export {
  storageOverviewResponseSchema,
  remoteOriginsResponseSchema,
  largestMediaResponseSchema,
} from "./storage-responses";
export { storageReportSchema, type StorageReport, type UnavailableFigure } from "./report-document";
export type {
  ContentTypeUsage,
  CountAndBytes,
  DatabaseUsage,
  FigureAccuracy,
  LargestLocalMedia,
  LargestMediaResponse,
  LargestRemoteMedia,
  LocalMediaUsage,
  MediaSource,
  MediaTableUsage,
  MonthlyUsage,
  RemoteMediaUsage,
  RemoteOriginsOrder,
  RemoteOriginsResponse,
  RemoteOriginUsage,
  StorageOverview,
  TableSize,
} from "./storage-types";
export {
  detectMediaUsageSummary,
  detectStorageSummary,
  installMediaUsageSummary,
  uninstallMediaUsageSummary,
  verifyMediaUsageSummary,
  verifyStorageSummary,
  MEDIA_USAGE_SUMMARY_TABLE,
  MediaUsageSummaryError,
  type MediaUsageDrift,
  type MediaUsageSummaryFailure,
  type MediaUsageSummaryInstallResult,
  type MediaUsageSummaryReport,
  type MediaUsageTotals,
  type StorageDriftRow,
  type StorageSummaryReport,
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
