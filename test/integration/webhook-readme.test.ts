import {randomBytes, randomUUID} from 'node:crypto'
import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {promisify} from 'node:util'

import {sql} from 'kysely'
import {beforeEach, describe, expect, it} from 'vitest'

import {channelEnvironment} from '../../src/config/environment.js'
import {Keyring} from '../../src/crypto/keyring.js'
import {INTERNAL_POLICY} from '../../src/net/address-policy.js'
import {reconcileAlerts} from '../../src/services/alerts/alert-reconcile.js'
import {revokeCredential, rotateCredential, setCredential} from '../../src/services/credentials/credentials.js'
import {checkHealth} from '../../src/services/health/health.js'
import {importTenantsCsv} from '../../src/services/import/tenant-import.js'
import {applyShopifyWebhook} from '../../src/services/integrations/shopify-webhooks.js'
import {changeTenantStatus, createTenant, deleteTenant, updateTenant} from '../../src/services/tenants/tenants.js'
import {WEBHOOK_EVENT_TYPES} from '../../src/services/webhooks/event-catalogue.js'
import {addSubscription, newSigningSecret} from '../../src/services/webhooks/subscriptions.js'
import {signDelivery} from '../../src/services/webhooks/webhook-signature.js'
import {findWorkspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend} from '../helpers/backends.js'

const audit = {actor: 'alice@example.com', source: 'cli'}
const keyring = new Keyring({id: 'k', key: randomBytes(32)})
const local = {allowHttp: INTERNAL_POLICY.allowHttp, allowPrivateNetwork: INTERNAL_POLICY.allowPrivateNetwork}
const HOUR = 3_600_000
const DAY = 24 * HOUR
const README = new URL('../../README.md', import.meta.url)

/** The README's text under `## Outbound webhooks` / `### <heading>`, up to the next heading of either level. */
async function readmeSection(heading: string): Promise<string> {
  const readme = await readFile(README, 'utf8')
  const webhooks = readme.slice(readme.indexOf('\n## Outbound webhooks\n'))
  const start = webhooks.indexOf(`\n### ${heading}\n`)
  if (start === -1) throw new Error(`README: no "### ${heading}" under "## Outbound webhooks"`)
  const rest = webhooks.slice(start + heading.length + 6)
  const end = rest.search(/\n##? |\n### /)
  return end === -1 ? rest : rest.slice(0, end)
}

const blocks = (text: string, language: string): string[] => [...text.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((match) => match[1] as string)

/** A value's shape: objects by their keys, arrays by their first item, the rest by type (null as null). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length > 0 ? [shape(value[0])] : []
  if (value === null) return null
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([key, item]) => [key, shape(item)]))
  return typeof value
}

describeEachBackend('README webhook events', (database) => {
  beforeEach(async () => {
    await sql`truncate webhook_deliveries, webhook_subscriptions, alerts, alert_evaluation, alert_input_changes, health_runs, tenants cascade`.execute(database().db)
  })

  it('shows one example of each event in the catalogue, shaped as synthex queues it', async () => {
    const {db} = database()
    const workspace = await findWorkspace(db, 'default')
    await addSubscription(db, keyring, audit, {...local, events: ['*'], name: 'everything', url: 'http://127.0.0.1:9/all'})
    const t0 = new Date()
    const at = (ms: number) => new Date(t0.getTime() + ms)
    const health = (now: Date) =>
      checkHealth({channelEnvironment: channelEnvironment({}), cronMaxAgeMs: 15 * 60_000, deep: false, keyring: () => keyring, latencyThresholdMs: 5000, now: () => now, open: async () => db, record: true, timeoutMs: 5000})

    await createTenant(db, workspace, audit, {market: 'US', name: 'Acme', shopify_shop: 'acme.myshopify.com', tenant_id: 'acme', type: 'shopify'})
    await updateTenant(db, workspace, audit, 'acme', {name: 'Acme Inc'})
    await changeTenantStatus(db, workspace, audit, 'acme', 'suspended')
    await setCredential(db, keyring, workspace, audit, {service: 'gmc', tenantId: 'acme'}, {expiresAt: at(90 * DAY), value: `v-${randomUUID()}`}, t0)
    await rotateCredential(db, keyring, workspace, audit, {service: 'gmc', tenantId: 'acme'}, {expiresAt: at(180 * DAY), value: `v-${randomUUID()}`}, t0)
    await revokeCredential(db, workspace, audit, {service: 'gmc', tenantId: 'acme'}, t0)
    await applyShopifyWebhook(db, {actor: 'shopify', source: 'webhook'}, {shop: 'acme.myshopify.com', topic: 'app/uninstalled', webhookId: randomUUID()})
    await deleteTenant(db, workspace, audit, 'acme')
    await health(t0)

    await createTenant(db, workspace, audit, {name: 'Globex', shopify_shop: 'globex.myshopify.com', tenant_id: 'globex', type: 'shopify'})
    await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'globex'}, {expiresAt: at(5 * DAY + HOUR), value: `v-${randomUUID()}`}, t0)
    await reconcileAlerts(db, {channels: [], now: t0})
    await reconcileAlerts(db, {channels: [], now: at(5 * DAY + 2 * HOUR)})
    await health(at(5 * DAY + 2 * HOUR))
    await rotateCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'globex'}, {expiresAt: at(365 * DAY), value: `v-${randomUUID()}`}, at(5 * DAY + 3 * HOUR))
    await reconcileAlerts(db, {channels: [], now: at(5 * DAY + 3 * HOUR)})
    await database().bulk((session) =>
      importTenantsCsv(session, audit, Readable.from(['tenant_id,name,type,shopify_shop\ninitech,Initech,shopify,initech.myshopify.com\nbad id!,Nope,shopify,nope.myshopify.com\n']), {source: 'new-tenants.csv', workspace}),
    )

    const queued = await db.selectFrom('webhook_deliveries').select(['event_type', 'payload']).orderBy('id').execute()
    const actual = new Map<string, unknown>()
    for (const row of queued) if (!actual.has(row.event_type)) actual.set(row.event_type, row.payload)
    expect([...actual.keys()].sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort())

    const examples = new Map<string, unknown>()
    for (const block of blocks(await readmeSection('Events'), 'json')) {
      const example = JSON.parse(block) as {type: string}
      examples.set(example.type, example)
    }

    // Printed on failure: the real payloads, to paste into the README.
    const mismatched = [...actual].filter(([type, payload]) => JSON.stringify(shape(examples.get(type))) !== JSON.stringify(shape(payload)))
    expect(mismatched.map(([type, payload]) => `${type}:\n${JSON.stringify(payload, undefined, 2)}`).join('\n')).toBe('')
    expect([...examples.keys()].sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort())
  })
})

describe('README signature verification', () => {
  it('runs the README\'s Node snippets against a delivery signed as synthex signs it: both schemes accept it, and refuse a tampered body or an old timestamp', async () => {
    const secret = newSigningSecret()
    const body = JSON.stringify({data: {id: 'acme', workspace: 'default'}, timestamp: new Date().toISOString(), type: 'tenant.created'})
    const now = Math.floor(Date.now() / 1000)
    const headers = signDelivery(`msg_${randomUUID().replaceAll('-', '')}`, now, body, [secret, newSigningSecret()])
    const stale = signDelivery(headers['webhook-id'], now - 6 * 60, body, [secret])
    const snippets = blocks(await readmeSection('Verifying signatures'), 'js')
    expect(snippets).toHaveLength(3)

    // Each snippet defines a verify(secret, headers, body) returning true or false; run as a module of this project (its node_modules).
    const directory = await mkdtemp(join(new URL('../..', import.meta.url).pathname, 'node_modules', '.readme-snippets-'))
    try {
      const results: unknown[] = []
      for (const [index, snippet] of snippets.entries()) {
        const file = join(directory, `snippet-${index}.mjs`)
        const cases = [
          [secret, headers, body],
          [secret, headers, body.replace('acme', 'acne')],
          [secret, stale, body],
          [newSigningSecret(), headers, body],
        ]
        await writeFile(file, `${snippet}\nconst cases = ${JSON.stringify(cases)}\nconst answers = []\nfor (const [s, h, b] of cases) { try { answers.push(Boolean(await verify(s, h, b))) } catch { answers.push(false) } }\nconsole.log(JSON.stringify(answers))\n`)
        const {stdout} = await promisify(execFile)(process.execPath, [file])
        results.push(JSON.parse(stdout))
      }

      // Standard Webhooks (the package, node:crypto): valid, tampered, older than 5 minutes, another secret.
      expect(results[0]).toEqual([true, false, false, false])
      expect(results[1]).toEqual([true, false, false, false])
      // The sha256= scheme signs the body alone: a stale timestamp is not its to check.
      expect(results[2]).toEqual([true, false, true, false])
    } finally {
      await rm(directory, {force: true, recursive: true})
    }
  })
})
