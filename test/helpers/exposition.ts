/**
 * The Prometheus text exposition format (version 0.0.4), parsed strictly and linted as
 * `promtool check metrics` lints it, so the metrics tests need nothing but npm: a sample
 * line that Prometheus would refuse, a family split in two, a histogram whose buckets are
 * not cumulative or lack `+Inf`, a counter without `_total` or a family without help is a
 * problem here as it is there.
 */

export interface Sample {
  readonly labels: Record<string, string>
  readonly name: string
  readonly value: number
}

export interface Family {
  help?: string
  readonly name: string
  readonly samples: Sample[]
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
}

export interface Exposition {
  readonly families: Map<string, Family>
  /** What Prometheus would refuse or promtool would lint, one line each; empty when clean. */
  readonly problems: string[]
}

const METRIC_NAME = /^[A-Za-z_:][A-Za-z0-9_:]*$/
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SUFFIXES: Record<string, string[]> = {histogram: ['_bucket', '_count', '_sum'], summary: ['_count', '_sum']}

function parseValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (text === 'NaN') return Number.NaN
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : undefined
}

/** Reads `{a="x",b="y"}` from `text` at `start` (just after the name); returns the labels and where they end. */
function parseLabels(text: string, start: number): undefined | {end: number; labels: Record<string, string>} {
  const labels: Record<string, string> = {}
  let at = start + 1
  for (;;) {
    if (text[at] === '}') return {end: at + 1, labels}
    const equals = text.indexOf('=', at)
    if (equals < 0) return undefined
    const name = text.slice(at, equals).trim()
    if (!LABEL_NAME.test(name) || name.startsWith('__') || name in labels || text[equals + 1] !== '"') return undefined
    let value = ''
    let index = equals + 2
    for (; index < text.length && text[index] !== '"'; index++) {
      if (text[index] !== '\\') {
        value += text[index]
        continue
      }

      const escaped = text[++index]
      if (escaped === 'n') value += '\n'
      else if (escaped === '\\' || escaped === '"') value += escaped
      else return undefined
    }

    if (index >= text.length) return undefined
    labels[name] = value
    at = index + 1
    if (text[at] === ',') at++
    else if (text[at] !== '}') return undefined
  }
}

/** The family a sample name belongs to: itself, or the histogram/summary it is a part of. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const own = families.get(name)
  if (own) return own
  for (const [type, suffixes] of Object.entries(SUFFIXES)) {
    for (const suffix of suffixes) {
      const family = name.endsWith(suffix) ? families.get(name.slice(0, -suffix.length)) : undefined
      if (family?.type === type) return family
    }
  }

  return undefined
}

function checkHistogram(family: Family, problems: string[]): void {
  const series = new Map<string, {buckets: Array<[number, number]>; count?: number; sum?: number}>()
  for (const sample of family.samples) {
    const {le, ...rest} = sample.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    const entry = series.get(key) ?? {buckets: []}
    series.set(key, entry)
    if (sample.name.endsWith('_bucket')) {
      const bound = le === undefined ? undefined : parseValue(le)
      if (bound === undefined) problems.push(`${sample.name}: a bucket without a valid "le" label`)
      else entry.buckets.push([bound, sample.value])
    } else if (sample.name.endsWith('_count')) entry.count = sample.value
    else if (sample.name.endsWith('_sum')) entry.sum = sample.value
  }

  for (const [key, {buckets, count, sum}] of series) {
    const sorted = [...buckets].sort((a, b) => a[0] - b[0])
    if (sorted.at(-1)?.[0] !== Number.POSITIVE_INFINITY) problems.push(`${family.name}${key}: no +Inf bucket`)
    if (sorted.some(([, value], index) => index > 0 && value < (sorted[index - 1] as [number, number])[1])) problems.push(`${family.name}${key}: buckets are not cumulative`)
    if (count === undefined || sum === undefined) problems.push(`${family.name}${key}: _count or _sum missing`)
    else if (sorted.at(-1)?.[1] !== count) problems.push(`${family.name}${key}: the +Inf bucket is not _count`)
  }
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, Family>()
  const problems: string[] = []
  const seen = new Set<string>()
  const finished = new Set<string>()
  let current: Family | undefined
  if (text !== '' && !text.endsWith('\n')) problems.push('the exposition does not end with a newline')

  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  for (const [index, line] of lines.entries()) {
    const where = `line ${index + 1}`
    const comment = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line)
    if (comment) {
      const [, keyword, name = '', rest = ''] = comment
      if (!METRIC_NAME.test(name)) problems.push(`${where}: "${name}" is not a metric name`)
      if (current && current.name !== name) finished.add(current.name)
      if (finished.has(name)) problems.push(`${where}: ${name} appears again after other families`)
      const family = families.get(name) ?? {name, samples: [], type: 'untyped'}
      families.set(name, family)
      current = family
      if (keyword === 'HELP') {
        if (family.help !== undefined) problems.push(`${where}: second HELP for ${name}`)
        family.help = rest
      } else {
        if (!TYPES.has(rest)) problems.push(`${where}: "${rest}" is not a metric type`)
        if (family.samples.length > 0) problems.push(`${where}: TYPE for ${name} after its samples`)
        family.type = rest as Family['type']
      }

      continue
    }

    if (line.startsWith('#') || line.trim() === '') continue
    const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line)?.[0]
    if (!name) {
      problems.push(`${where}: not a sample line: ${JSON.stringify(line)}`)
      continue
    }

    let labels: Record<string, string> = {}
    let rest = line.slice(name.length)
    if (rest.startsWith('{')) {
      const parsed = parseLabels(line, name.length)
      if (!parsed) {
        problems.push(`${where}: malformed labels: ${JSON.stringify(line)}`)
        continue
      }

      labels = parsed.labels
      rest = line.slice(parsed.end)
    }

    const [valueText, timestamp, extra] = rest.trim().split(/\s+/)
    const value = valueText === undefined ? undefined : parseValue(valueText)
    if (!rest.startsWith(' ') || value === undefined || (timestamp !== undefined && !/^-?\d+$/.test(timestamp)) || extra !== undefined) {
      problems.push(`${where}: malformed sample: ${JSON.stringify(line)}`)
      continue
    }

    const family = familyOf(name, families) ?? {name, samples: [], type: 'untyped' as const}
    if (!families.has(family.name)) families.set(family.name, family)
    if (current && current !== family) finished.add(current.name)
    if (finished.has(family.name)) problems.push(`${where}: ${family.name} appears again after other families`)
    current = family
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`
    if (seen.has(series)) problems.push(`${where}: duplicate series ${name}${JSON.stringify(labels)}`)
    seen.add(series)
    family.samples.push({labels, name, value})
  }

  for (const family of families.values()) {
    // The lints `promtool check metrics` applies to what synthex exports.
    if (family.help === undefined || family.help === '') problems.push(`${family.name}: no help text`)
    if (family.type === 'counter' && !family.name.endsWith('_total')) problems.push(`${family.name}: counter metrics should have "_total" suffix`)
    if (family.type !== 'counter' && family.name.endsWith('_total')) problems.push(`${family.name}: non-counter metrics should not have "_total" suffix`)
    if (family.type === 'histogram') checkHistogram(family, problems)
  }

  return {families, problems}
}
