/**
 * How bad an alert is. The one definition every layer uses: the schema's column type, the
 * notifiers' labels, the rules' thresholds and `--min-severity` all mean these three words in
 * this order.
 */

export const SEVERITIES = ['info', 'warning', 'critical'] as const

export type Severity = (typeof SEVERITIES)[number]

/** 0 for info up to 2 for critical: a higher rank is worse. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity)
}

/** For sorting, worst first. */
export function bySeverityDescending(a: Severity, b: Severity): number {
  return severityRank(b) - severityRank(a)
}
