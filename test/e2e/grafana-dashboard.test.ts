import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {sql} from 'kysely'
import {beforeAll, describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {type Family, parseExposition} from '../helpers/exposition.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {type MetricReference, metricReferences, variableReferences} from '../helpers/promql-references.js'
import {seedFleet} from '../helpers/seed-fleet.js'

/**
 * examples/grafana/synthex.json, the dashboard the README offers for import: well-formed for
 * Grafana, and every query in it names a metric that `synthex metrics` really exports, with
 * the labels the query filters or groups by. A renamed metric or label fails here, naming it,
 * not on a user's empty panel.
 */

interface Target {
  readonly datasource?: {type?: string; uid?: string}
  readonly expr?: string
  readonly refId?: string
}

interface Panel {
  readonly datasource?: {type?: string; uid?: string}
  readonly gridPos?: {h: number; w: number; x: number; y: number}
  readonly id?: number
  readonly panels?: Panel[]
  readonly targets?: Target[]
  readonly title?: string
  readonly type?: string
}

interface Variable {
  readonly current?: {value?: unknown}
  readonly datasource?: {type?: string; uid?: string}
  readonly name: string
  readonly query?: string | {query?: string}
  readonly type: string
}

interface Dashboard {
  readonly __inputs?: Array<{name: string; pluginId: string; type: string}>
  readonly panels: Panel[]
  readonly schemaVersion: number
  readonly templating: {list: Variable[]}
  readonly title?: string
  readonly uid?: string
}

const DASHBOARD_PATH = new URL('../../examples/grafana/synthex.json', import.meta.url)
const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard

/** Every panel, rows' nested panels included. */
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])])

/** Every PromQL query of the dashboard: each panel target's expr and each Prometheus variable's query, with where it is. */
function queries(): Array<{expr: string; references: MetricReference[]; where: string}> {
  const fromPanels = allPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({expr: target.expr ?? '', references: metricReferences(target.expr ?? ''), where: `panel "${panel.title}" (${target.refId})`})),
  )
  const fromVariables = dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '')
      return {expr: query, references: variableReferences(query), where: `variable $${variable.name}`}
    })
  return [...fromPanels, ...fromVariables]
}

/** Grafana's own variables, which need no definition in the dashboard. */
const BUILT_IN_VARIABLES = new Set(['__interval', '__interval_ms', '__range', '__rate_interval', '__range_s', '__range_ms'])

describe('the Grafana dashboard (examples/grafana/synthex.json)', () => {
  it('is a dashboard Grafana imports: uid, title, schema version, a Prometheus data source input', () => {
    expect(dashboard.title).toBe('synthex')
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/)
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39)
    expect(dashboard.__inputs).toEqual([expect.objectContaining({name: 'DS_PROMETHEUS', pluginId: 'prometheus', type: 'datasource'})])
    const datasource = dashboard.templating.list.find((variable) => variable.type === 'datasource')
    expect(datasource).toMatchObject({current: {value: '${DS_PROMETHEUS}'}, name: 'datasource', query: 'prometheus'})
  })

  it('gives every panel a unique id and a place on the 24-column grid, without overlaps', () => {
    const panels = allPanels(dashboard.panels)
    const ids = panels.map((panel) => panel.id)
    expect(ids.every((id) => Number.isInteger(id))).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
    const cells = new Map<string, string>()
    for (const panel of panels) {
      const grid = panel.gridPos
      expect(grid, `panel ${panel.title}`).toBeDefined()
      if (!grid) continue
      expect(grid.x + grid.w, `panel ${panel.title}`).toBeLessThanOrEqual(24)
      for (let x = grid.x; x < grid.x + grid.w; x++) {
        for (let y = grid.y; y < grid.y + grid.h; y++) {
          expect(cells.get(`${x},${y}`), `panel ${panel.title} overlaps`).toBeUndefined()
          cells.set(`${x},${y}`, panel.title ?? '')
        }
      }
    }
  })

  it('queries through the data source variable on every panel, target and variable, with unique refIds', () => {
    const source = {type: 'prometheus', uid: '${datasource}'}
    const withTargets = allPanels(dashboard.panels).filter((panel) => panel.type !== 'row')
    expect(withTargets.length).toBeGreaterThan(10)
    for (const panel of withTargets) {
      expect(panel.datasource, `panel ${panel.title}`).toEqual(source)
      expect(panel.targets?.length, `panel ${panel.title}`).toBeGreaterThan(0)
      const refIds = (panel.targets ?? []).map((target) => target.refId)
      expect(new Set(refIds).size, `panel ${panel.title}: refIds`).toBe(refIds.length)
      for (const target of panel.targets ?? []) {
        expect(target.datasource, `panel ${panel.title} (${target.refId})`).toEqual(source)
        expect(target.expr?.trim(), `panel ${panel.title} (${target.refId})`).toBeTruthy()
      }
    }

    for (const variable of dashboard.templating.list.filter((variable) => variable.type === 'query')) expect(variable.datasource, `$${variable.name}`).toEqual(source)
  })

  it('defines every variable its queries use', () => {
    const defined = new Set(dashboard.templating.list.map((variable) => variable.name))
    const used = queries().flatMap(({expr, where}) => [...expr.matchAll(/\$\{?(\w+)/g)].map((match) => ({name: match[1] as string, where})))
    expect(used.filter(({name}) => !defined.has(name) && !BUILT_IN_VARIABLES.has(name))).toEqual([])
    expect(used.map(({name}) => name)).toContain('workspace')
  })
})

const KEY = randomBytes(32).toString('base64')

/** Which family a selected series belongs to, or why none does. */
function familyOf(name: string, families: Map<string, Family>): Family | string {
  const own = families.get(name)
  if (own) return own.type === 'histogram' || own.type === 'summary' ? `${name} is a ${own.type}: a query selects its _bucket, _sum or _count series` : own
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const family = name.endsWith(suffix) ? families.get(name.slice(0, -suffix.length)) : undefined
    if (family && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return family
  }

  return `${name} is not exported by \`synthex metrics\``
}

describeEachCliBackend('the Grafana dashboard against synthex metrics', (target) => {
  const run = (args: string[], input?: string) => runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '60s'}, input})
  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await run(args, input)
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0)
    return result.stdout
  }

  let text = ''
  beforeAll(async () => {
    // A sample in every family the dashboard reads, so that each one's labels can be checked:
    // tenants in two workspaces, credentials (one expiring), a verification answer, an alert
    // run, a health check, and a command that failed.
    const inDays = (days: number) => new Date(Date.now() + days * 86_400_000)
    await seedFleet(target(), {
      credentials: [
        {expiresAt: inDays(5), service: 'shopify', tenantId: 'g1', value: 'shpat_g1'},
        {expiresAt: inDays(90), service: 'google', tenantId: 'g2', value: 'refresh_g2', workspace: 'eu'},
      ],
      encryptionKey: KEY,
      tenants: [
        {name: 'Shop one', shopify_shop: 'g1.myshopify.com', tenant_id: 'g1', type: 'shopify'},
        {gmc_merchant_id: '42', name: 'Merchant two', tenant_id: 'g2', type: 'google_merchant', workspace: 'eu'},
      ],
      workspaces: ['eu'],
    })
    await withDatabase(target(), async (db) => {
      await sql`
        with verification as (
          insert into credential_verifications (credential_id, tenant_id, service, outcome, reason, http_status, latency_ms)
          select c.id, c.tenant_id, c.service, 'rejected', 'revoked_or_invalid', 401, 120
          from credentials c join tenants t on t.id = c.tenant_id where t.tenant_id = 'g1'
          returning id, credential_id, tenant_id, outcome, verified_at)
        insert into credential_verification_latest (credential_id, verification_id, tenant_id, outcome, verified_at)
        select credential_id, id, tenant_id, outcome, verified_at from verification`.execute(db)
    })
    await ok(['alerts', 'check-now'])
    expect((await run(['health', 'check', '--max-latency', '10s', '--timeout', '20s'])).code).toBe(0)
    expect((await run(['tenant', 'tenants', 'get', 'missing'])).code).toBe(1)
    text = await ok(['metrics'])
  })

  it('reads only metrics synthex exports, each with the labels its query filters or groups by', () => {
    const {families, problems} = parseExposition(text)
    expect(problems).toEqual([])
    const typed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]))
    const missing: string[] = []
    const checked = new Set<string>()
    for (const {references, where} of queries()) {
      expect(references.length, `${where} reads no metric`).toBeGreaterThan(0)
      for (const reference of references) {
        const family = familyOf(reference.name, families)
        if (typeof family === 'string') {
          missing.push(`${where}: ${family}`)
          continue
        }

        if (!typed.has(family.name)) missing.push(`${where}: ${family.name} has no # TYPE line`)
        const series = family.samples.filter((sample) => sample.name === reference.name)
        if (series.length === 0) {
          missing.push(`${where}: ${reference.name} has no sample in this run, so its labels cannot be checked (seed data for it)`)
          continue
        }

        const labels = new Set(series.flatMap((sample) => Object.keys(sample.labels)))
        for (const label of reference.labels) {
          if (!labels.has(label)) missing.push(`${where}: ${reference.name} has no label "${label}" (it has: ${[...labels].sort().join(', ') || 'none'})`)
        }

        checked.add(reference.name)
      }
    }

    expect(missing).toEqual([])
    // What the issue asks the dashboard to show, each read by at least one query.
    expect([...checked].sort()).toEqual(
      expect.arrayContaining([
        'synthex_alerts_firing',
        'synthex_command_duration_seconds_bucket',
        'synthex_command_errors_total',
        'synthex_command_runs_total',
        'synthex_credential_next_expiry_seconds',
        'synthex_credential_verification_latency_seconds_bucket',
        'synthex_credential_verifications',
        'synthex_credentials',
        'synthex_health_check_status',
        'synthex_health_status',
        'synthex_tenants',
        'synthex_tenants_verification_failing',
      ]),
    )
  })

  it('offers every workspace with tenants in its workspace variable', () => {
    const {families} = parseExposition(text)
    const workspaces = new Set(families.get('synthex_tenants')?.samples.map((sample) => sample.labels.workspace))
    expect([...workspaces].sort()).toEqual(['default', 'eu'])
  })
})
