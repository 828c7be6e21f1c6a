// Reads a duration option: a whole number with a unit (`500ms`, `30s`, `5m`, `1h`); a bare
// number is seconds.

import { usageError } from "./errors";

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** The duration in milliseconds; `allowZero` lets `0` through (an option's "off"). */
export function parseDuration(option: string, value: string, allowZero = false): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  const ms = match ? Number(match[1]) * UNIT_MS[(match[2] ?? "s") as keyof typeof UNIT_MS] : NaN;
  if (!Number.isSafeInteger(ms) || ms > 2_147_483_647 || (ms === 0 && !allowZero)) {
    throw usageError(
      `${option} must be a ${allowZero ? "" : "positive "}duration such as 30s, 5m or 500ms, not "${value}"`,
    );
  }
  return ms;
}
