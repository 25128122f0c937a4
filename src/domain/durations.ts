import ms from 'ms'

const WITH_UNIT = /^\s*\d+(?:\.\d+)?\s*(?:ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?)\s*$/i

/**
 * The longest duration synthex takes anywhere: 36,500 days (100 years). Added to or taken
 * from now it stays far inside what a JavaScript date (±273,790 years) and a Postgres
 * timestamp hold; `9999999999d` would otherwise become an invalid date deep in a command.
 */
export const MAX_DURATION_MS = 36_500 * 86_400_000

/** The durations a flag or setting accepts, in milliseconds (0 to MAX_DURATION_MS unless narrowed). */
export interface DurationRange {
  readonly max?: number
  readonly min?: number
}

export type DurationReading = {readonly ms: number; readonly ok: true} | {readonly ok: false; readonly problem: 'format' | 'range'}

/**
 * Reads a human duration such as `10s`, `90d` or `1.5h` into milliseconds, and checks it
 * against `range`.
 *
 * A unit is required: a bare `10` would mean ten milliseconds to `ms`, which is never
 * what someone typing a timeout or an expiry means. The caller names its own flag or
 * variable in the error (see `describeDurationRange`).
 */
export function readDuration(text: string, range: DurationRange = {}): DurationReading {
  if (!WITH_UNIT.test(text)) return {ok: false, problem: 'format'}
  const value = ms(text.trim() as ms.StringValue)
  if (!Number.isFinite(value)) return {ok: false, problem: 'range'}
  const {max, min} = bounds(range)
  return value >= min && value <= max ? {ms: value, ok: true} : {ok: false, problem: 'range'}
}

/** A duration in milliseconds, or `undefined` when the text is not one or is out of the range. */
export function parseDuration(text: string, range: DurationRange = {}): number | undefined {
  const reading = readDuration(text, range)
  return reading.ok ? reading.ms : undefined
}

/** `from 0s to 36500d`, for error messages. */
export function describeDurationRange(range: DurationRange = {}): string {
  const {max, min} = bounds(range)
  return `from ${min === 0 ? '0s' : formatDuration(min)} to ${formatDuration(max)}`
}

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
]

/**
 * Renders milliseconds as a flag would take them, exactly, in the largest unit that divides
 * them: `10s`, `90m`, `1d`, `36h`, `1500ms`. Never rounded (`ms` says `2h` for 90 minutes),
 * and the same units everywhere (`1d`, not `1440 min`).
 */
export function formatDuration(milliseconds: number): string {
  const value = Math.round(milliseconds)
  if (value === 0) return '0s'
  for (const [unit, size] of UNITS) if (value % size === 0) return `${value / size}${unit}`
  return `${value}ms`
}

function bounds(range: DurationRange): {max: number; min: number} {
  return {max: Math.min(range.max ?? MAX_DURATION_MS, MAX_DURATION_MS), min: Math.max(range.min ?? 0, 0)}
}
