import {formatDuration} from '../domain/durations.js'
import type {AlertRule} from '../services/alerts/alert-rules.js'

/** The settings that are not a number of days, and so carry no `d`. */
const NOT_DAYS = new Set(['min_calls', 'p95_ms', 'percent', 'runs'])

/**
 * A rule's settings as `alerts rules set` takes them: thresholds in days (`days=30d`,
 * `warning=7d`), `runs=3` and `min_calls=1` as counts, `percent=5`, `p95_ms=2000`.
 */
export function ruleSettings(rule: Pick<AlertRule, 'params'>): string {
  return Object.entries(rule.params)
    .map(([key, value]) => `${key}=${value}${NOT_DAYS.has(key) ? '' : 'd'}`)
    .join(' ')
}

/** A rule's repeat interval as `--repeat` takes it: `1d`, `90m`. */
export function ruleRepeat(rule: Pick<AlertRule, 'repeatIntervalMs'>): string {
  return formatDuration(rule.repeatIntervalMs)
}
