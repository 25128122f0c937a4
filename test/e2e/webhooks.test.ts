import {randomBytes, randomUUID} from 'node:crypto'

import {expect, it} from 'vitest'

import {type CliResult, parseJson, runCli} from '../helpers/cli.js'
import {// Receivers are literal addresses of TEST-NET-3 (203.0.113.0/24, RFC 5737): public to the
// address policy, and never resolved, so no test asks a DNS server beyond this machine.
describeEachCliBackend} from '../helpers/cli-backends.js'
import {columnsContaining, withDatabase} from '../helpers/inspect-database.js'

const keyA = randomBytes(32).toString('base64')
const keyB = randomBytes(32).toString('base64')

describeEachCliBackend('webhooks commands', (target) => {
  const run = (args: string[], options: {env?: Record<string, string | undefined>; input?: string} = {}) =>
    runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: `a:${keyA}`, ...options.env}, input: options.input})

  it('prints the signing secret once, shows only the URL\'s host, and lets neither out anywhere else', async () => {
    // URLs that are secrets themselves (Zapier's, n8n's): their paths are canaries.
    const canaries = [`flag${randomUUID().replaceAll('-', '')}`, `env${randomUUID().replaceAll('-', '')}`, `stdin${randomUUID().replaceAll('-', '')}`]
    const transcript: CliResult[] = []
    const record = async (result: Promise<CliResult>, code: number): Promise<CliResult> => {
      const done = await result
      transcript.push(done)
      expect(done.code, done.stderr).toBe(code)
      return done
    }

    const added = await record(run(['webhooks', 'add', 'crm', '--url', `https://203.0.113.10/hooks/${canaries[0]}`, '--events', 'tenant.created,tenant.deleted']), 0)
    const secret = added.stdout.trim()
    expect(added.stdout).toMatch(/^whsec_[\w+/]{43}=\n$/)
    expect(added.stderr).toContain('Added webhook crm to 203.0.113.10 for tenant.created, tenant.deleted.')
    expect(added.stderr).toContain('it will not be shown again')

    const fromEnv = await record(run(['webhooks', 'add', 'jira', '--url-from-env', 'JIRA_HOOK', '--events', 'credential.*', '--json'], {env: {JIRA_HOOK: `https://203.0.113.11/${canaries[1]}`}}), 0)
    const jira = parseJson<{events: string[]; name: string; secret: string; urlHost: string; workspace: null | string}>(fromEnv)
    expect(jira).toMatchObject({events: ['credential.*'], name: 'jira', urlHost: '203.0.113.11', workspace: null})
    expect(jira.secret).toMatch(/^whsec_/)
    await record(run(['tenant', 'workspaces', 'create', 'eu']), 0)
    const fromStdin = await record(run(['webhooks', 'add', 'n8n', '--url-stdin', '--events', '*', '--allow-http', '--allow-private-network', '-w', 'eu', '--json'], {input: `http://10.0.0.7:5678/webhook/${canaries[2]}\n`}), 0)
    const n8n = parseJson<{secret: string; urlHost: string; workspace: string}>(fromStdin)
    expect([n8n.urlHost, n8n.workspace]).toEqual(['10.0.0.7:5678', 'eu'])

    expect((await record(run(['webhooks', 'add', 'crm', '--url', 'https://203.0.113.10/', '--events', '*']), 1)).stderr).toContain('exists already')

    const table = await record(run(['webhooks', 'list']), 0)
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+HOST\s+EVENTS\s+WORKSPACE\s+CREATED\s+STATE\s+PENDING\s+FAILED\s+LAST DELIVERY$/)
    expect(table.stdout).toMatch(/^crm\s+203\.0\.113\.10\s+tenant\.created,tenant\.deleted\s+\(all\)\s+\S+\s+active\s+0\s+0$/m)
    expect(table.stdout).toMatch(/^n8n\s+10\.0\.0\.7:5678\s+\*\s+eu\s/m)
    const csv = await record(run(['webhooks', 'list', '--csv']), 0)
    expect(csv.stdout.split('\n')[0]).toBe('name,url_host,events,workspace,created_at,state,pending,failed,last_delivery')
    const listed = parseJson<{subscriptions: Array<{deliveries: {pending: number}; name: string; urlHost: string}>}>(await record(run(['webhooks', 'list', '--json']), 0))
    expect(listed.subscriptions.map((subscription) => `${subscription.name}@${subscription.urlHost}`)).toEqual(['crm@203.0.113.10', 'jira@203.0.113.11', 'n8n@10.0.0.7:5678'])

    // A change queues an event for crm; the list counts it.
    await record(run(['tenant', 'tenants', 'create', '--tenant-id', 'acme', '--name', 'Acme', '--type', 'shopify', '--shopify-shop', 'acme.myshopify.com']), 0)
    const counted = parseJson<{subscriptions: Array<{deliveries: {pending: number}; name: string}>}>(await record(run(['webhooks', 'list', '--json']), 0))
    expect(counted.subscriptions.map((subscription) => subscription.deliveries.pending)).toEqual([1, 0, 0])

    const rotated = await record(run(['webhooks', 'rotate-secret', 'crm', '--overlap', '1h']), 0)
    const newSecret = rotated.stdout.trim()
    expect(newSecret).toMatch(/^whsec_/)
    expect(newSecret).not.toBe(secret)
    expect(rotated.stderr).toMatch(/the previous one keeps signing until \d{4}-/)
    expect((await record(run(['webhooks', 'rotate-secret', 'crm', '--overlap', '8d']), 2)).stderr).toContain('--overlap')
    const enabled = await record(run(['webhooks', 'enable', 'crm', '--json']), 0)
    expect(parseJson<{wasDisabled: boolean}>(enabled).wasDisabled).toBe(false)
    await record(run(['events', 'list', '--json']), 0)

    // Each secret left once, in its own command's output; no URL path ever did.
    const text = transcript.map((result) => `${result.stdout}\n${result.stderr}`)
    for (const canary of canaries) expect(text.filter((output) => output.includes(canary))).toEqual([])
    for (const shown of [secret, jira.secret, n8n.secret, newSecret]) expect(text.filter((output) => output.includes(shown))).toHaveLength(1)
    await withDatabase(target(), async (db) => {
      for (const canary of canaries) expect(await columnsContaining(db, canary)).toEqual([])
      expect(await columnsContaining(db, secret)).toEqual([])
    })
  })

  it('refuses a URL inside the network, over http or with a password, and an unknown event, without quoting the URL (exit 2)', async () => {
    const canary = `refused${randomUUID().replaceAll('-', '')}`
    for (const url of [`http://203.0.113.10/${canary}`, `https://localhost/${canary}`, `https://u:${canary}@203.0.113.10/`]) {
      const refused = await run(['webhooks', 'add', 'bad', '--url', url, '--events', 'tenant.created', '--json'])
      expect(refused.code).toBe(2)
      expect(parseJson<{error: {code: string}}>(refused).error.code).toBe('INVALID_INPUT')
      expect(`${refused.stdout}${refused.stderr}`).not.toContain(canary)
    }

    const unknown = await run(['webhooks', 'add', 'bad', '--url', 'https://203.0.113.10/', '--events', 'tenant.made'])
    expect([unknown.code, unknown.stderr.includes('"tenant.made" is not an event type or pattern; known: tenant.created,')]).toEqual([2, true])
    const missing = await run(['webhooks', 'add', 'bad', '--events', '*'])
    expect([missing.code, missing.stderr.includes('No URL given.')]).toEqual([2, true])
  })

  it('removes only with --yes where nobody can confirm, with the pending deliveries; exit codes per the contract', async () => {
    expect((await run(['webhooks', 'add', 'old', '--url', 'https://203.0.113.12/hook', '--events', 'tenant.*', '--json'])).code).toBe(0)
    await run(['tenant', 'tenants', 'create', '--tenant-id', 'gone', '--name', 'Gone', '--type', 'shopify', '--shopify-shop', 'gone.myshopify.com'])
    const refused = await run(['webhooks', 'remove', 'old', '--json'])
    expect(refused.code).toBe(2)
    expect(parseJson<{error: {code: string; exitCode: number}}>(refused).error).toMatchObject({code: 'CONFIRMATION_REQUIRED', exitCode: 2})
    const removed = await run(['webhooks', 'remove', 'old', '--yes', '--json'])
    expect(removed.code, removed.stderr).toBe(0)
    expect(parseJson(removed)).toEqual({name: 'old', pendingDropped: 1})
    const again = await run(['webhooks', 'remove', 'old', '--yes', '--json'])
    expect([again.code, parseJson<{error: {code: string}}>(again).error.code]).toEqual([1, 'NOT_FOUND'])
    const history = parseJson<{events: Array<{data: Record<string, unknown>; type: string}>}>(await run(['events', 'list', '--json', '--type', 'webhook.removed']))
    expect(history.events.map((event) => event.data)).toContainEqual({name: 'old', pendingDropped: 1, urlHost: '203.0.113.12'})
  })

  it('credentials rekey moves subscriptions to the new key: they open without the old one', async () => {
    expect((await run(['webhooks', 'add', 'rekeyed', '--url', 'https://203.0.113.20/hook', '--events', '*'])).code).toBe(0)
    const rekey = await run(['credentials', 'rekey', '--json'], {env: {SYNTHEX_ENCRYPTION_KEY: `b:${keyB}`, SYNTHEX_ENCRYPTION_KEYS: `a:${keyA}`}})
    expect(rekey.code, rekey.stderr).toBe(0)
    expect(parseJson<{webhookSubscriptions: {moved: number; remaining: number}}>(rekey).webhookSubscriptions).toMatchObject({remaining: 0})
    // Opening it (to rotate its secret) needs only the new key now.
    const rotated = await run(['webhooks', 'rotate-secret', 'rekeyed', '--json'], {env: {SYNTHEX_ENCRYPTION_KEY: `b:${keyB}`}})
    expect(rotated.code, rotated.stderr).toBe(0)
  })
})
