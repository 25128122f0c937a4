import ms from 'ms'

const WITH_UNIT = /^\s*\d+(?:\.\d+)?\s*(?:ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?)\s*$/i

/**
 * Parses a human duration such as `10s`, `90d` or `1.5h` into milliseconds.
 *
 * A unit is required: a bare `10` would mean ten milliseconds to `ms`, which is never
 * what someone typing a timeout or an expiry means. Returns `undefined` when the text is
 * not a duration so each caller can name its own flag or variable in the error.
 */
export function parseDuration(text: string): number | undefined {
  if (!WITH_UNIT.test(text)) return undefined
  const value = ms(text.trim() as ms.StringValue)
  return Number.isFinite(value) && value >= 0 ? value : undefined
}

/** Renders milliseconds the way a person would say it: `10s`, `3d`. */
export function formatDuration(milliseconds: number): string {
  return ms(milliseconds)
}
