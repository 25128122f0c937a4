import {spawn} from 'node:child_process'
import {closeSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {parse} from 'csv-parse/sync'
import {afterAll, beforeAll, beforeEach, expect, inject, it} from 'vitest'

import {SlackFake} from '../fakes/slack-fake.js'
import {BIN, type CliResult, cliEnv, parseJson, runCli} from '../helpers/cli.js'
import {type CliTarget, describeEachCliBackend} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'

/**
 * Issue 11, "Hostile input lands harmlessly": the attacks as they were tried, through the
 * built CLI on both backends, and the safe outcome of each.
 */

/** What a terminal would obey: C0 but newline and tab, DEL, C1, bidi overrides and isolates, line and paragraph separators. */
// eslint-disable-next-line no-control-regex
const OBEYED = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/

/** The name of the issue: clears the screen, turns text red, sets the window title; plus an 8-bit CSI and a right-to-left override. */
const EVIL = 'Evil\u001B[2J\u001B[31mRED\u001B]0;pwned-title\u0007 \u009B2J \u202Eeman'
/** How synthex shows it. */
const EVIL_SHOWN = 'Evil\\x1b[2J\\x1b[31mRED\\x1b]0;pwned-title\\x07 \\x9b2J \\u202eeman'

const TOKEN = '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'
const KEY = Buffer.alloc(32, 7).toString('base64')

function scratchDir(): string {
  return mkdtempSync(join(inject('scratch'), 'hostile-'))
}

/** A tenant that has been idle for 90 days, so `tenant_inactive` fires for it. */
async function idleTenant(target: CliTarget, tenantId: string, name: string): Promise<void> {
  await withDatabase(target, async (db) => {
    const workspace = await db.selectFrom('workspaces').select('id').where('slug', '=', 'default').executeTakeFirstOrThrow()
    const old = new Date(Date.now() - 90 * 86_400_000)
    await db.insertInto('tenants').values({created_at: old, last_activity_at: old, metadata: '{}', name, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify', workspace_id: workspace.id}).execute()
  })
}

function expectHarmless(result: CliResult): void {
  expect(result.stdout, 'stdout').not.toMatch(OBEYED)
  expect(result.stderr, 'stderr').not.toMatch(OBEYED)
}

describeEachCliBackend('hostile text on the terminal (issue 11, point 12)', (target) => {
  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, {env: {...target().env, SYNTHEX_ACTOR: 'ops-bot', ...env}})

  it('shows a tenant name with escape sequences escaped in `tenants list` and `get`, and exactly in --json', async () => {
    const created = await run(['tenant', 'tenants', 'create', '--tenant-id', 'evil-1', '--name', EVIL, '--type', 'shopify', '--shopify-shop', 'evil-1.myshopify.com'])
    expect(created.code, created.stderr).toBe(0)
    expectHarmless(created)

    for (const args of [['tenant', 'tenants', 'list'], ['tenant', 'tenants', 'get', 'evil-1']]) {
      const shown = await run(args)
      expect(shown.code).toBe(0)
      expectHarmless(shown)
      expect(shown.stdout).toContain(EVIL_SHOWN)
    }

    const json = await run(['tenant', 'tenants', 'get', 'evil-1', '--json'])
    expect(json.stdout).not.toMatch(OBEYED)
    expect(parseJson<{name: string}>(json).name).toBe(EVIL)

    const missing = await run(['tenant', 'tenants', 'get', `no-such${EVIL}`])
    expect(missing.code).toBe(1)
    expectHarmless(missing)
  })

  it('shows an actor from SYNTHEX_ACTOR escaped in `events list`', async () => {
    const created = await run(['tenant', 'tenants', 'create', '--tenant-id', 'acted-on', '--name', 'Acted on', '--type', 'shopify', '--shopify-shop', 'acted-on.myshopify.com'], {SYNTHEX_ACTOR: EVIL})
    expect(created.code, created.stderr).toBe(0)
    const listed = await run(['events', 'list', '--tenant', 'acted-on'])
    expect(listed.code).toBe(0)
    expectHarmless(listed)
    expect(listed.stdout).toContain(EVIL_SHOWN)
    const json = parseJson<{events: Array<{actor: string}>}>(await run(['events', 'list', '--tenant', 'acted-on', '--json']))
    expect(json.events[0]?.actor).toBe(EVIL)
  })

  it('shows it escaped in `alerts list`, `check-now --dry-run` and the console channel', async () => {
    await idleTenant(target(), 'evil-idle', EVIL)
    const dry = await run(['alerts', 'check-now', '--dry-run'])
    expect(dry.code, dry.stderr).toBe(0)
    expectHarmless(dry)
    expect(dry.stdout).toContain(`${EVIL_SHOWN} (evil-idle) has had no activity for 90 days`)

    // No channel is configured: alerts are printed on stderr.
    const sent = await run(['alerts', 'check-now'])
    expect(sent.code, sent.stderr).toBe(0)
    expectHarmless(sent)
    expect(sent.stderr).toContain(`[INFO] ${EVIL_SHOWN} (evil-idle) has had no activity for 90 days (workspace default)`)

    const listed = await run(['alerts', 'list'])
    expectHarmless(listed)
    expect(listed.stdout).toContain(EVIL_SHOWN)
  })
})

describeEachCliBackend('hostile text in notifications (issue 11, points 12 and 14)', (target) => {
  const slack = new SlackFake()
  const failing = new SlackFake()
  const run = (args: string[], options: {input?: string} = {}) => runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY}, input: options.input})

  beforeAll(async () => {
    await Promise.all([slack.listen(), failing.listen()])
  })

  afterAll(async () => {
    await Promise.all([slack.close(), failing.close()])
  })

  beforeEach(() => {
    slack.reset()
    failing.reset()
  })

  it('escapes a tenant name in Slack\'s top-level text as in its blocks: no @channel ping, no link', async () => {
    const added = await run(['alerts', 'channels', 'add', 'evil-slack', '--type', 'slack', '--value-stdin', '--allow-http', '--allow-private-network'], {input: slack.webhookUrl})
    expect(added.code, added.stderr).toBe(0)
    await idleTenant(target(), 'phish', '<!channel> <https://evil.example|Reset your password> & more')
    const checked = await run(['alerts', 'check-now', '--json'])
    expect(checked.code, checked.stderr).toBe(0)

    const [message] = slack.messages.filter((sent) => sent.text.includes('(phish)'))
    expect(message?.text).toContain('&lt;!channel&gt; &lt;https://evil.example|Reset your password&gt; &amp; more (phish) has had no activity for 90 days')
    for (const text of [message?.text ?? '', ...(message?.blocks ?? []).map((block) => block.text?.text ?? '')]) {
      expect(text).not.toContain('<!channel>')
      expect(text).not.toContain('<https://')
    }
  })

  it('shows a provider\'s error body escaped in `channels test` and `alerts deliveries`', async () => {
    const added = await run(['alerts', 'channels', 'add', 'evil-answers', '--type', 'slack', '--value-stdin', '--allow-http', '--allow-private-network'], {input: failing.webhookUrl})
    expect(added.code, added.stderr).toBe(0)

    failing.failNext({body: `invalid_payload ${EVIL}`, status: 400})
    const tested = await run(['alerts', 'channels', 'test', 'evil-answers'])
    expect(tested.code).toBe(1)
    expectHarmless(tested)
    expect(tested.stderr).toContain(`invalid_payload ${EVIL_SHOWN}`)

    failing.failNext({body: `invalid_blocks ${EVIL}`, status: 400})
    await idleTenant(target(), 'answered', 'Answered')
    await run(['alerts', 'check-now'])
    const deliveries = await run(['alerts', 'deliveries', '--channel', 'evil-answers', '--state', 'failed'])
    expect(deliveries.code).toBe(0)
    expectHarmless(deliveries)
    expect(deliveries.stdout).toContain(`invalid_blocks ${EVIL_SHOWN}`)
  })
})

describeEachCliBackend('hostile files and values (issue 11, points 11, 13, 15 and 16)', (target) => {
  const run = (args: string[], options: {env?: Record<string, string>; input?: string} = {}) =>
    runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: KEY, ...options.env}, input: options.input})
  const names = async (workspace: string, search: string): Promise<Array<{name: string; region: null | string; tenantId: string}>> => {
    const listed = await run(['tenant', 'tenants', 'list', '-w', workspace, '--search', search, '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    return parseJson<{tenants: Array<{name: string; region: null | string; tenantId: string}>}>(listed).tenants.map(({name, region, tenantId}) => ({name, region, tenantId}))
  }

  it('exports formulas as text a spreadsheet will not run, and imports the export back to the same values', async () => {
    // An attacker's file, as a spreadsheet would save it: the formulas as they are.
    const formulas = ['=HYPERLINK("https://evil.example","Click")', '@SUM(1+1)*cmd|" /C calc"!A0', "+cmd|'/C calc'!A0", '-2+3']
    const dir = scratchDir()
    const source = join(dir, 'formulas.csv')
    writeFileSync(source, `tenant_id,name,type,shopify_shop,region\n${formulas.map((name, index) => `fx-${index},"${name.replaceAll('"', '""')}",shopify,fx-${index}.myshopify.com,-${index}`).join('\n')}\n`)
    const imported = await run(['batch', 'tenants', 'create', '--from-csv', source])
    expect(imported.code, imported.stderr).toBe(0)
    // A name that starts with a quote before a formula character survives the round trip too.
    formulas.push("'=already quoted")
    const quoted = await run(['tenant', 'tenants', 'create', '--tenant-id', 'fx-4', '--name', "'=already quoted", '--type', 'shopify', '--shopify-shop', 'fx-4.myshopify.com', '--region', '-4'])
    expect(quoted.code, quoted.stderr).toBe(0)
    const stored = await names('default', 'fx-')
    expect(stored.map((tenant) => tenant.name)).toEqual(formulas)

    const exported = await run(['tenant', 'tenants', 'list', '--search', 'fx-', '--csv'])
    expect(exported.code).toBe(0)
    const cells = (parse(exported.stdout) as string[][]).slice(1)
    expect(cells.map((row) => row[1])).toEqual(formulas.map((name) => `'${name}`))
    // A negative number is only a number: it is left as it is.
    expect(cells.map((row) => row[6])).toEqual(['-0', '-1', '-2', '-3', '-4'])
    for (const cell of cells.flat()) expect(/^[=+@\t\r]/.test(cell) || /^-(?!\d+$)/.test(cell), cell).toBe(false)

    // Fed back into another workspace, the export gives exactly the same tenants.
    const copy = join(dir, 'export.csv')
    writeFileSync(copy, exported.stdout)
    expect((await run(['tenant', 'workspaces', 'create', 'copy'])).code).toBe(0)
    const reimported = await run(['batch', 'tenants', 'create', '--from-csv', copy, '-w', 'copy'])
    expect(reimported.code, reimported.stderr).toBe(0)
    expect(await names('copy', 'fx-')).toEqual(stored)
  })

  it('refuses a reject file that is the input file, by path or on standard input, and leaves the input as it was', async () => {
    const dir = scratchDir()
    const path = join(dir, 'rej.csv')
    const content = 'tenant_id,name,type,shopify_shop\nrej-1,Good,shopify,rej-1.myshopify.com\nrej 2,Bad id,shopify,rej-2.myshopify.com\n'
    writeFileSync(path, content)
    const same = await run(['batch', 'tenants', 'create', '--from-csv', path, '--reject-file', path])
    expect(same.code).toBe(2)
    expect(same.stderr).toContain(`--reject-file: ${path} is the file being imported; writing the rejected rows there would destroy it. Give another path.`)

    // `--from-csv - < rej.csv` is the same file too.
    const input = openSync(path, 'r')
    const child = spawn(process.execPath, [BIN, 'batch', 'tenants', 'create', '--from-csv', '-', '--reject-file', path, '--json'], {env: cliEnv(target().env), stdio: [input, 'pipe', 'pipe']})
    closeSync(input)
    let stdout = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    const code = await new Promise<null | number>((resolve) => child.on('close', resolve))
    expect(code).toBe(2)
    expect(JSON.parse(stdout)).toMatchObject({error: {code: 'USAGE', message: expect.stringContaining('is the file being imported')}})

    expect(readFileSync(path, 'utf8')).toBe(content)
    expect(readdirSync(dir)).toEqual(['rej.csv'])
    expect(await names('default', 'rej-')).toEqual([])
  })

  it('replaces a reject file that is a symlink instead of writing through it', async () => {
    const dir = scratchDir()
    const victim = join(dir, 'victim.txt')
    writeFileSync(victim, 'not yours\n')
    const rejects = join(dir, 'rejects.csv')
    symlinkSync(victim, rejects)
    const source = join(dir, 'in.csv')
    writeFileSync(source, 'tenant_id,name,type,shopify_shop\nlink-1,Good,shopify,link-1.myshopify.com\nlink 2,"=HYPERLINK(""x"")",shopify,link-2.myshopify.com\n')
    const result = await run(['batch', 'tenants', 'create', '--from-csv', source, '--reject-file', rejects])
    expect(result.code).toBe(3)
    expect(readFileSync(victim, 'utf8')).toBe('not yours\n')
    expect(lstatSync(rejects).isSymbolicLink()).toBe(false)
    expect(readFileSync(rejects, 'utf8')).toBe(
      'tenant_id,name,type,shopify_shop,error\n' + `link 2,"'=HYPERLINK(""x"")",shopify,link-2.myshopify.com,"line 3: tenant_id: may contain only letters, digits, ""_"" and ""-"""\n`,
    )
    expect(readdirSync(dir).sort()).toEqual(['in.csv', 'rejects.csv', 'victim.txt'])

    // Fixed and fed back, the reject file imports the name as it was in the first file.
    writeFileSync(rejects, readFileSync(rejects, 'utf8').replace('link 2', 'link-2'))
    const fixed = await run(['batch', 'tenants', 'create', '--from-csv', rejects])
    expect(fixed.code, fixed.stderr).toBe(0)
    expect((await names('default', 'link-2'))[0]?.name).toBe('=HYPERLINK("x")')
  })

  it('reports absurd durations, dates and ids as usage errors naming the flag and the range, changing nothing', async () => {
    const cases: Array<{args: string[]; input?: string; says: string[]}> = [
      {args: ['credentials', 'set', 'acme', '--service', 'shopify', '--value-stdin', '--expires-in', '9999999999d'], input: TOKEN, says: ['--expires-in', 'is out of range: give a duration from 0s to 36500d']},
      {args: ['credentials', 'set', 'acme', '--service', 'shopify', '--value-stdin', '--expires-at', '2027-02-30'], input: TOKEN, says: ['--expires-at', 'is not an ISO-8601 date']},
      {args: ['alerts', 'silence', '--tenant', 'acme', '--for', '99999999d', '--comment', 'forever'], says: ['--for: "99999999d" is out of range: give a duration from 0s to 36500d.']},
      {args: ['alerts', 'ack', '99999999999999999999999'], says: ['ALERT-ID: "99999999999999999999999" is out of range: give a whole number from 1 to 9007199254740991.']},
      {args: ['alerts', 'silences', 'expire', '-1'], says: ['SILENCE-ID: "-1" is not a whole number']},
      {args: ['events', 'list', '--since', '99999999d'], says: ['--since: "99999999d" is out of range: give a duration from 0s to 36500d, or a date from 1970-01-01 to 9999-12-31.']},
      {args: ['events', 'list', '--after', '99999999999999999999'], says: ['--after: "99999999999999999999" is out of range: give a whole number from 0 to 9007199254740991.']},
      {args: ['tenant', 'tenants', 'history', 'acme', '--after', '1e5'], says: ['--after: "1e5" is not a whole number']},
      {args: ['alerts', 'check-now', '--max-wait', '9999999999d'], says: ['--max-wait: "9999999999d" is out of range: give a duration from 0s to 1d.']},
      {args: ['alerts', 'rules', 'set', 'tenant_inactive', '--days', '99999999999999'], says: ['--days: "99999999999999" is out of range: give a whole number from 1 to 3650.']},
      {args: ['alerts', 'rules', 'set', 'tenant_inactive', '--repeat', '9999999999d'], says: ['--repeat: "9999999999d" is out of range: give a duration from 1m to 365d.']},
      {args: ['credentials', 'list', '--expiring-within', '9999999999d'], says: ['--expiring-within', '36500d']},
      {args: ['usage', 'report', '--since', '9999999999d'], says: ['--since', '36500d']},
      {args: ['health', 'check', '--timeout', '30d'], says: ['--timeout: "30d" is out of range: give a duration from 0s to 1h.']},
    ]
    // Each is refused before the database is opened, so they can run side by side.
    const results: CliResult[] = []
    for (let index = 0; index < cases.length; index += 4) {
      results.push(...(await Promise.all(cases.slice(index, index + 4).map(({args, input}) => run([...args, '--json'], {input})))))
    }

    for (const [index, {args, says}] of cases.entries()) {
      const result = results[index] as CliResult
      const what = args.join(' ')
      expect(result.code, what).toBe(2)
      const {error} = parseJson<{error: {code: string; message: string}}>(result)
      expect(error.code, what).toBe('USAGE')
      for (const text of says) expect(error.message, what).toContain(text)
      expect(error.message, what).not.toMatch(/Unexpected error|SQLSTATE|Invalid time value/)
      expect(result.stdout + result.stderr, what).not.toContain(TOKEN)
    }

    const rules = parseJson<{rules: Array<{name: string; params: {days?: number}; repeatIntervalMs: number}>}>(await run(['alerts', 'rules', '--json']))
    expect(rules.rules.find((rule) => rule.name === 'tenant_inactive')).toMatchObject({params: {days: 30}, repeatIntervalMs: 86_400_000})
    expect(parseJson<{silences: unknown[]}>(await run(['alerts', 'silences', '--all', '--json'])).silences).toEqual([])
  })

  it('never repeats a token given to --from-env or --signing-secret-env in place of a variable\'s name', async () => {
    const set = await run(['credentials', 'set', 'acme', '--service', 'shopify', '--from-env', TOKEN])
    expect(set.code).toBe(2)
    expect(set.stderr).toContain('--from-env')
    expect(set.stdout + set.stderr).not.toContain(TOKEN)

    const invalid = await run(['credentials', 'set', 'acme', '--service', 'shopify', '--from-env', `Bearer ${TOKEN}`, '--json'])
    expect(parseJson<{error: {message: string}}>(invalid).error.message).toBe(
      '--from-env needs the NAME of an environment variable (letters, digits, _), not its value; what was typed is not repeated.',
    )
    expect(invalid.stdout + invalid.stderr).not.toContain(TOKEN)

    const hook = await run(['alerts', 'channels', 'add', 'hook', '--type', 'webhook', '--from-env', 'HOOK_URL', '--signing-secret-env', TOKEN], {env: {HOOK_URL: 'http://127.0.0.1:9/hook'}})
    expect(hook.code).toBe(2)
    expect(hook.stderr).toContain('--signing-secret-env')
    expect(hook.stdout + hook.stderr).not.toContain(TOKEN)
  })
})
