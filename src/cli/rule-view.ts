import {formatDuration} from '../domain/durations.js'
import type {AlertRule} from '../services/alerts/alert-rules.js'

/**
 * A rule's settings as `alerts rules set` takes them: thresholds in days (`days=30d`,
 * `warning=7d`), `runs=3` as a count.
 */
export function ruleSettings(rule: Pick<AlertRule, 'params'>): string {
  return Object.entries(rule.params)
    .map(([key, value]) => `${key}=${value}${key === 'runs' ? '' : 'd'}`)
    .join(' ')
}

/** A rule's repeat interval as `--repeat` takes it: `1d`, `90m`. */
export function ruleRepeat(rule: Pick<AlertRule, 'repeatIntervalMs'>): string {
  return formatDuration(rule.repeatIntervalMs)
}
