import {describe, expect, it} from 'vitest'

import {parseExposition} from '../helpers/exposition.js'

// The checker the metrics tests rely on must itself refuse what Prometheus refuses.
describe('the exposition checker used by the metrics tests', () => {
  const clean = [
    '# HELP jobs_total Jobs run.',
    '# TYPE jobs_total counter',
    'jobs_total{queue="a\\"b\\\\c\\n"} 3',
    '# HELP latency_seconds Latency.',
    '# TYPE latency_seconds histogram',
    'latency_seconds_bucket{le="0.5"} 1',
    'latency_seconds_bucket{le="+Inf"} 2',
    'latency_seconds_sum 1.25',
    'latency_seconds_count 2',
    '',
  ].join('\n')

  it('accepts a clean exposition and reads its samples, escapes included', () => {
    const {families, problems} = parseExposition(clean)
    expect(problems).toEqual([])
    expect(families.get('jobs_total')?.samples).toEqual([{labels: {queue: 'a"b\\c\n'}, name: 'jobs_total', value: 3}])
    expect(families.get('latency_seconds')?.samples.map((sample) => sample.name)).toEqual(['latency_seconds_bucket', 'latency_seconds_bucket', 'latency_seconds_sum', 'latency_seconds_count'])
  })

  it.each([
    ['a malformed label value', clean.replace('queue="a', 'queue=a'), 'malformed labels'],
    ['a value that is not a number', clean.replace(' 3\n', ' three\n'), 'malformed sample'],
    ['a counter without _total', clean.replaceAll('jobs_total', 'jobs'), 'counter metrics should have "_total" suffix'],
    ['no help', clean.replace('# HELP jobs_total Jobs run.\n', ''), 'jobs_total: no help text'],
    ['no +Inf bucket', clean.replace('le="+Inf"', 'le="1"'), 'no +Inf bucket'],
    ['buckets that shrink', clean.replace('le="0.5"} 1', 'le="0.5"} 5'), 'buckets are not cumulative'],
    ['a count that is not the +Inf bucket', clean.replace('latency_seconds_count 2', 'latency_seconds_count 7'), 'the +Inf bucket is not _count'],
    ['a duplicate series', clean.replace('jobs_total{queue="a\\"b\\\\c\\n"} 3', 'jobs_total 1\njobs_total 2'), 'duplicate series'],
    ['a family split in two', `${clean}jobs_total{queue="z"} 1\n`, 'jobs_total appears again after other families'],
    ['no final newline', clean.trimEnd(), 'does not end with a newline'],
    ['a label named with a reserved prefix', clean.replace('queue=', '__queue='), 'malformed labels'],
  ])('refuses %s', (_what, text, problem) => {
    expect(parseExposition(text).problems.join('\n')).toContain(problem)
  })
})
