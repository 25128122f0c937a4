/**
 * The metrics a PromQL expression reads, and for each the labels it filters or groups by:
 * enough of PromQL to check a Grafana dashboard against what `synthex metrics` exports
 * (test/e2e/grafana-dashboard.test.ts). Strings, ranges (`[$window]`), numbers and function
 * names are not metrics; a name followed by `{...}` is, with the matchers' labels; `sum by
 * (a, b) (...)` (or `sum (...) by (a, b)`) adds a and b to every metric inside its
 * parentheses. What this reader does not follow (vector matching with `on`, `ignoring`,
 * `group_left`; a selector without a name) is refused rather than read loosely.
 */

export interface MetricReference {
  /** The labels matched in `{...}` or named by an enclosing `by`/`without`. */
  readonly labels: Set<string>
  /** The series name as written: `synthex_command_duration_seconds_bucket`. */
  readonly name: string
}

type Token =
  | {readonly kind: 'ident'; readonly text: string}
  | {readonly kind: 'other'; readonly text: string}
  | {readonly kind: 'selector'; readonly labels: string[]}

const AGGREGATIONS = new Set(['avg', 'bottomk', 'count', 'count_values', 'group', 'limitk', 'limit_ratio', 'max', 'min', 'quantile', 'stddev', 'stdvar', 'sum', 'topk'])
const OPERATOR_WORDS = new Set(['and', 'atan2', 'bool', 'offset', 'or', 'unless'])
const UNSUPPORTED = new Set(['group_left', 'group_right', 'ignoring', 'on'])

function tokenize(expr: string): Token[] {
  const tokens: Token[] = []
  let at = 0
  while (at < expr.length) {
    const rest = expr.slice(at)
    const space = /^\s+/.exec(rest)
    if (space) {
      at += space[0].length
      continue
    }

    if (rest[0] === '"' || rest[0] === "'" || rest[0] === '`') {
      const end = closingQuote(expr, at)
      tokens.push({kind: 'other', text: expr.slice(at, end + 1)})
      at = end + 1
      continue
    }

    if (rest[0] === '[') {
      // A range or subquery: durations and variables, never a metric.
      const end = expr.indexOf(']', at)
      if (end < 0) throw new Error(`unclosed [ in ${expr}`)
      at = end + 1
      continue
    }

    if (rest[0] === '{') {
      const {end, labels} = matchers(expr, at)
      tokens.push({kind: 'selector', labels})
      at = end
      continue
    }

    const ident = /^[A-Za-z_:][\w:]*/.exec(rest)
    if (ident) {
      tokens.push({kind: 'ident', text: ident[0]})
      at += ident[0].length
      continue
    }

    const number = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(rest)
    if (number) {
      tokens.push({kind: 'other', text: number[0]})
      at += number[0].length
      continue
    }

    tokens.push({kind: 'other', text: rest[0] as string})
    at++
  }

  return tokens
}

function closingQuote(expr: string, start: number): number {
  const quote = expr[start]
  for (let at = start + 1; at < expr.length; at++) {
    if (expr[at] === '\\' && quote !== '`') at++
    else if (expr[at] === quote) return at
  }

  throw new Error(`unclosed string in ${expr}`)
}

/** `{a="x", b=~"y|z"}` from `start`: the label names and where the block ends. */
function matchers(expr: string, start: number): {end: number; labels: string[]} {
  const labels: string[] = []
  let at = start + 1
  for (;;) {
    const rest = expr.slice(at)
    const close = /^\s*,?\s*\}/.exec(rest)
    if (close) return {end: at + close[0].length, labels}
    const matcher = /^\s*,?\s*([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*/.exec(rest)
    if (!matcher?.[1]) throw new Error(`cannot read the matchers of ${expr.slice(start)}`)
    labels.push(matcher[1])
    at += matcher[0].length
    at = closingQuote(expr, at) + 1
  }
}

/** The index of the `)` closing the `(` at `open`. */
function closing(tokens: Token[], open: number): number {
  let depth = 0
  for (let index = open; index < tokens.length; index++) {
    const token = tokens[index] as Token
    if (token.kind === 'other' && token.text === '(') depth++
    if (token.kind === 'other' && token.text === ')' && --depth === 0) return index
  }

  throw new Error('unbalanced parentheses')
}

const isText = (token: Token | undefined, text: string): boolean => token !== undefined && token.kind !== 'selector' && token.text === text

/** The label names of `( a, b )` at `open`, and the index of its `)`. */
function labelList(tokens: Token[], open: number): {end: number; labels: string[]} {
  if (!isText(tokens[open], '(')) throw new Error('by/without without a label list')
  const end = closing(tokens, open)
  const labels = tokens.slice(open + 1, end).flatMap((token) => (token.kind === 'ident' ? [token.text] : []))
  return {end, labels}
}

export function metricReferences(expr: string): MetricReference[] {
  const tokens = tokenize(expr)
  const references = new Map<number, MetricReference>()
  const groupings: Array<{from: number; labels: string[]; to: number}> = []
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index] as Token
    if (token.kind === 'selector') throw new Error(`a selector without a metric name in ${expr}`)
    if (token.kind !== 'ident') continue
    if (UNSUPPORTED.has(token.text)) throw new Error(`${token.text} is not read by test/helpers/promql-references.ts: ${expr}`)
    if (OPERATOR_WORDS.has(token.text)) continue
    if (token.text === 'by' || token.text === 'without') {
      // After an aggregation's parentheses (`sum (...) by (a)`): handled with the aggregation.
      index = labelList(tokens, index + 1).end
      continue
    }

    if (AGGREGATIONS.has(token.text)) {
      let open = index + 1
      let labels: string[] = []
      if (isText(tokens[open], 'by') || isText(tokens[open], 'without')) {
        const list = labelList(tokens, open + 1)
        labels = list.labels
        open = list.end + 1
      }

      const end = closing(tokens, open)
      if (isText(tokens[end + 1], 'by') || isText(tokens[end + 1], 'without')) labels = labelList(tokens, end + 2).labels
      groupings.push({from: open, labels, to: end})
      index = open
      continue
    }

    const next = tokens[index + 1]
    if (isText(next, '(')) continue // a function
    const labels = next?.kind === 'selector' ? next.labels : []
    references.set(index, {labels: new Set(labels), name: token.text})
    if (next?.kind === 'selector') index++
  }

  for (const grouping of groupings) {
    for (const [index, reference] of references) {
      if (index > grouping.from && index < grouping.to) for (const label of grouping.labels) reference.labels.add(label)
    }
  }

  return [...references.values()]
}

/** `label_values(metric, label)`, `label_values(label)` or a PromQL query, as a Grafana Prometheus variable holds it. */
export function variableReferences(query: string): MetricReference[] {
  const labelValues = /^\s*label_values\(\s*(.*),\s*([A-Za-z_]\w*)\s*\)\s*$/.exec(query)
  if (labelValues?.[1] && labelValues[2]) {
    return metricReferences(labelValues[1]).map((reference) => ({...reference, labels: new Set([...reference.labels, labelValues[2] as string])}))
  }

  if (/^\s*label_values\(\s*[A-Za-z_]\w*\s*\)\s*$/.test(query)) throw new Error(`label_values without a metric reads every metric: ${query}`)
  const queryResult = /^\s*query_result\((.*)\)\s*$/.exec(query)
  return metricReferences(queryResult?.[1] ?? query)
}
