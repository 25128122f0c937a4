import {describe, expect, it} from 'vitest'

import {metricReferences, variableReferences} from '../helpers/promql-references.js'

const read = (expr: string) => metricReferences(expr).map((reference) => [reference.name, [...reference.labels].sort()])

describe('the metrics a PromQL expression reads (the Grafana dashboard test)', () => {
  it('finds metrics and their matchers, not functions, strings, ranges or numbers', () => {
    expect(read('time() - synthex_alerts_last_run_timestamp_seconds')).toEqual([['synthex_alerts_last_run_timestamp_seconds', []]])
    expect(read('rate(x_total{a="b}", c=~"d|e"}[$window]) * 60 > 0.5')).toEqual([['x_total', ['a', 'c']]])
  })

  it('gives the grouping labels of an aggregation to the metrics inside it only, written before or after', () => {
    expect(read('sum by (command) (rate(e_total[5m])) / sum(rate(r_total[5m])) by (le)')).toEqual([
      ['e_total', ['command']],
      ['r_total', ['le']],
    ])
    expect(read('histogram_quantile(0.95, sum by (le, service) (rate(h_bucket{workspace=~"$w"}[$__rate_interval])))')).toEqual([['h_bucket', ['le', 'service', 'workspace']]])
  })

  it('refuses what it does not read rather than reading it loosely', () => {
    expect(() => metricReferences('a / on (job) b')).toThrow(/on is not read/)
    expect(() => metricReferences('{__name__="a"}')).toThrow(/without a metric name/)
  })

  it('reads Grafana variable queries', () => {
    expect(variableReferences('label_values(synthex_tenants{status="active"}, workspace)').map((reference) => [reference.name, [...reference.labels].sort()])).toEqual([
      ['synthex_tenants', ['status', 'workspace']],
    ])
    expect(() => variableReferences('label_values(workspace)')).toThrow(/every metric/)
  })
})
