/**
 * The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then samples,
 * label values escaped. What `metrics` prints, writes for node_exporter's textfile
 * collector and pushes to a Pushgateway, and what `health check --format prometheus` prints.
 */

export interface Sample {
  readonly labels?: Readonly<Record<string, string>>
  /** Appended to the family name: `_bucket`, `_sum`, `_count` for histograms. */
  readonly suffix?: string
  readonly value: number
}

export interface MetricFamily {
  readonly help: string
  readonly name: string
  readonly samples: readonly Sample[]
  readonly type: 'counter' | 'gauge' | 'histogram'
}

const escapeHelp = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')
const escapeLabel = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

export function exposition(families: readonly MetricFamily[]): string {
  const lines: string[] = []
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`)
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {})
      const labelText = labels.length > 0 ? `{${labels.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(',')}}` : ''
      lines.push(`${family.name}${sample.suffix ?? ''}${labelText} ${formatValue(sample.value)}`)
    }
  }

  return `${lines.join('\n')}\n`
}
