// The ES module entry: re-exports the CommonJS build by name (Node reads the names from it),
// so `import` and `require()` hand out the very same functions and classes.

export {
  createStatisticsRouter,
  STATISTICS_PATHS,
  synapseAccessTokenAuth,
  synapseDelegatedAuth,
  MatrixError,
  Errcode,
  consoleLogger,
  silentLogger,
  usersMediaQuerySchema,
  usersMediaResponseSchema,
  largestRoomsResponseSchema,
  matrixErrorSchema,
  buildOpenApiDocument,
  roomsQuerySchema,
  detectMediaUsageSummary,
  installMediaUsageSummary,
  uninstallMediaUsageSummary,
  verifyMediaUsageSummary,
  MEDIA_USAGE_SUMMARY_TABLE,
  MediaUsageSummaryError,
} from "./index.js";
export type * from "./index.js";
