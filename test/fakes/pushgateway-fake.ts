import {parseExposition, type Sample} from '../helpers/exposition.js'
import {type Answer, HttpFake, type Received} from './http-fake.js'

interface Group {
  readonly grouping: Record<string, string>
  /** Family name -> its HELP, TYPE and samples as pushed. */
  readonly families: Map<string, {help?: string; samples: Sample[]; type: string}>
  pushedAt: number
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')
}

function formatSample(sample: Sample): string {
  const labels = Object.entries(sample.labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`)
  const value = Number.isNaN(sample.value) ? 'NaN' : sample.value === Number.POSITIVE_INFINITY ? '+Inf' : sample.value === Number.NEGATIVE_INFINITY ? '-Inf' : String(sample.value)
  return `${sample.name}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${value}`
}

/**
 * The Prometheus Pushgateway's push API (github.com/prometheus/pushgateway, README "API"):
 * `PUT /metrics/job/<job>{/<label>/<value>}` replaces the group's metrics, `POST` replaces
 * only the families it sends, `DELETE` drops the group; a body that is not the text format
 * is refused with 400 and nothing changes; `GET /metrics` serves every group's samples with
 * the grouping labels added (and `instance=""` where none was given), plus the
 * `push_time_seconds` and `push_failure_time_seconds` of each group; `GET /-/ready` answers
 * 200. Metrics are kept in memory only, like `--persistence.file=` does.
 */
export class PushgatewayFake extends HttpFake {
  readonly #groups = new Map<string, Group>()

  #exposition(): string {
    const byFamily = new Map<string, {help?: string; lines: string[]; type: string}>()
    const add = (name: string, help: string | undefined, type: string, line: string) => {
      const family = byFamily.get(name) ?? {help, lines: [], type}
      byFamily.set(name, family)
      family.lines.push(line)
    }

    for (const group of this.#groups.values()) {
      const grouping = {instance: '', ...group.grouping}
      for (const [name, family] of group.families) {
        for (const sample of family.samples) add(name, family.help, family.type, formatSample({...sample, labels: {...sample.labels, ...grouping}}))
      }

      add('push_time_seconds', 'Last Unix time when changing this group in the Pushgateway succeeded.', 'gauge', formatSample({labels: grouping, name: 'push_time_seconds', value: group.pushedAt}))
      add('push_failure_time_seconds', 'Last Unix time when changing this group in the Pushgateway failed.', 'gauge', formatSample({labels: grouping, name: 'push_failure_time_seconds', value: 0}))
    }

    return [...byFamily].map(([name, {help, lines, type}]) => `# HELP ${name} ${help ?? ''}\n# TYPE ${name} ${type}\n${lines.join('\n')}\n`).join('')
  }

  protected answer(request: Received): Answer {
    const path = new URL(request.path, 'http://pushgateway').pathname
    const answer = (status: number, text = ''): Answer => ({body: text, headers: {'content-type': 'text/plain; charset=utf-8'}, status})
    if (request.method === 'GET' && path === '/-/ready') return answer(200, 'OK\n')
    if (request.method === 'GET' && path === '/metrics') return answer(200, this.#exposition())
    const parts = path.split('/').slice(1).map((part) => decodeURIComponent(part))
    if (parts[0] !== 'metrics' || parts[1] !== 'job' || !parts[2] || parts.length % 2 !== 1) return answer(404, '404 page not found\n')
    const grouping: Record<string, string> = {job: parts[2]}
    for (let index = 3; index < parts.length; index += 2) grouping[parts[index] as string] = parts[index + 1] as string
    const key = JSON.stringify(Object.entries(grouping).sort())

    if (request.method === 'DELETE') {
      this.#groups.delete(key)
      return answer(202)
    }

    if (request.method !== 'PUT' && request.method !== 'POST') return answer(405, 'Method Not Allowed\n')
    const pushed = parseExposition(request.body)
    const structural = pushed.problems.filter((problem) => problem.startsWith('line ') || problem.startsWith('the exposition'))
    if (structural.length > 0) return answer(400, `pushed metrics are invalid or inconsistent with existing metrics: ${structural[0]}\n`)
    for (const family of pushed.families.values()) {
      const clash = family.samples.find((sample) => Object.keys(grouping).some((name) => name in sample.labels))
      if (clash) return answer(400, `pushed metrics are invalid or inconsistent with existing metrics: ${clash.name} has a grouping label\n`)
    }

    const previous = this.#groups.get(key)
    const families = request.method === 'POST' && previous ? new Map(previous.families) : new Map<string, {help?: string; samples: Sample[]; type: string}>()
    for (const family of pushed.families.values()) families.set(family.name, {help: family.help, samples: family.samples, type: family.type})
    this.#groups.set(key, {families, grouping, pushedAt: Date.now() / 1000})
    return answer(200)
  }
}
