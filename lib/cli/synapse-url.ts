// `--synapse-url`: where the service asks Synapse about tokens. Checked once at start, so a
// typo shows in the first lines of the log rather than as 503s; Synapse being down at that
// moment is only a warning, since it may well come up after the sidecar.

import type { Logger as PinoLogger } from "pino";
import { describeError } from "../logger";
import { usageError } from "./errors";

const VERSIONS_PATH = "/_matrix/client/versions";
const CHECK_TIMEOUT_MS = 5_000;

/** The URL as given, once it is known to be one the delegated check can use. */
export function parseSynapseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`--synapse-url must be an http(s) URL, not "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`--synapse-url must be an http(s) URL, not "${value}"`);
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw usageError("--synapse-url must not carry credentials, a query or a fragment");
  }
  return value;
}

/** Logs whether Synapse's client API answers at `baseUrl` (no token is sent). */
export async function checkSynapseAnswers(baseUrl: string, logger: PinoLogger): Promise<void> {
  const url = `${baseUrl.replace(/\/+$/, "")}${VERSIONS_PATH}`;
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
      redirect: "error",
    });
    await response.body?.cancel();
    if (response.ok) {
      logger.info({ synapse: baseUrl }, "tokens are checked by Synapse");
      return;
    }
    logger.warn(
      { synapse: baseUrl, status: response.status },
      `Synapse's ${VERSIONS_PATH} answered HTTP ${response.status}: is --synapse-url right? Requests are answered 503 until Synapse answers`,
    );
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    logger.warn(
      { synapse: baseUrl, ...describeError(cause instanceof Error ? cause : error) },
      "Synapse does not answer at --synapse-url yet; requests are answered 503 until it does",
    );
  }
}
