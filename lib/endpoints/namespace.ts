// Where this package's own endpoints live. Synapse owns its version prefixes (/v1/, /v2/ ...)
// under /_synapse/admin; the Matrix spec asks anything custom to be namespaced in Java package
// style, the reverse DNS of a domain its authors control. The project lives at
// github.com/synapse-admin-statistics, whose pages domain is synapse-admin-statistics.github.io;
// the spec names `io.github` for authors without a domain of their own. No Synapse path can
// ever start with this segment, and the version after it is ours to bump.

/** The namespace segment of the package's own endpoints. */
export const EXTENSION_NAMESPACE = "io.github.synapse-admin-statistics";

/** Their path prefix, relative to where the router is mounted. */
export const EXTENSION_PREFIX = `/${EXTENSION_NAMESPACE}/v1`;
