import {randomBytes} from 'node:crypto'
import {readFile, stat} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'

import type {NpmRegistry} from '../fakes/npm-registry.js'
import {PagerDutyFake} from '../fakes/pagerduty-fake.js'
import {SlackFake} from '../fakes/slack-fake.js'
import {backendNames, createServerDatabase} from '../helpers/backends.js'
import {installTarball, makeProject, registryEnv, shell, startRegistry} from '../helpers/installed-package.js'

const README = fileURLToPath(new URL('../../README.md', import.meta.url))

interface Block {
  readonly code: string
  /** Where it starts in README.md, for failure messages. */
  readonly line: number
}

/**
 * The README's shell blocks between two headings, in order. A `crontab` block is run as
 * cron would run its commands: each line without its five schedule fields.
 */
function blocks(readme: string, from: string, to: string): Block[] {
  const start = readme.indexOf(`\n${from}\n`)
  const end = readme.indexOf(`\n${to}\n`, start)
  if (start < 0 || end < 0) throw new Error(`README.md has no section "${from}" followed by "${to}"`)
  const found: Block[] = []
  for (const match of readme.slice(start, end).matchAll(/^```(sh|crontab)\n([\s\S]*?)^```$/gm)) {
    const line = readme.slice(0, start + (match.index ?? 0)).split('\n').length + 1
    const body = match[2] ?? ''
    const code = match[1] === 'crontab' ? body.split('\n').filter((text) => text.trim() && !text.startsWith('#')).map((text) => text.trim().split(/\s+/).slice(5).join(' ')).join('\n') : body
    found.push({code, line})
  }

  return found
}

/** Replaces what only makes sense on a user's machine by its local stand-in, insisting that the README still says it. */
function localise(code: string, substitutions: ReadonlyArray<readonly [string, string]>, used: Set<string>): string {
  let result = code
  for (const [from, to] of substitutions) {
    if (!result.includes(from)) continue
    used.add(from)
    result = result.replaceAll(from, to)
  }

  return result
}

describe('the README, followed by a new user in an empty directory', () => {
  const shopifyToken = `shpat_${randomBytes(16).toString('hex')}`
  const pushes: string[] = []
  const slack = new SlackFake()
  const pagerduty = new PagerDutyFake()
  let pushgateway: Server
  let registry: NpmRegistry
  let dir = ''
  let readme = ''
  let env: Record<string, string | undefined> = {}
  let substitutions: Array<readonly [string, string]> = []
  const used = new Set<string>()

  beforeAll(async () => {
    readme = await readFile(README, 'utf8')
    registry = await startRegistry(inject('dependencyTarballs'))
    await slack.listen()
    await pagerduty.listen()
    pushgateway = createServer((request, response) => {
      pushes.push(`${request.method} ${request.url}`)
      request.resume().on('end', () => response.writeHead(200).end())
    })
    await new Promise<void>((resolve) => pushgateway.listen(0, '127.0.0.1', resolve))
    dir = join(inject('scratch'), `readme-${randomBytes(4).toString('hex')}`)
    await makeProject(join(dir, 'project'))
    await makeProject(join(dir, 'home', 'textfile_collector'))
    const {port} = pushgateway.address() as {port: number}
    substitutions = [
      // synthex is not on npmjs.com from here: its tarball is, and the registry serves its dependencies.
      ['npm install --save-dev synthex', `npm install --save-dev ${inject('tarball')}`],
      ['/var/lib/node_exporter/textfile_collector/', `${join(dir, 'home', 'textfile_collector')}/`],
      ['http://pushgateway:9091', `http://127.0.0.1:${port}`],
      ['cd /srv/ops', `cd ${join(dir, 'project')}`],
      // The stand-in Slack and PagerDuty listen on http://127.0.0.1, which a channel must be allowed to reach.
      ['channels add ops-slack --type slack --value-stdin', 'channels add ops-slack --type slack --value-stdin --allow-http --allow-private-network'],
      ['channels add oncall --type pagerduty --from-env PD_ROUTING_KEY', 'channels add oncall --type pagerduty --from-env PD_ROUTING_KEY --allow-http --allow-private-network'],
    ]
    env = {
      ...registryEnv(dir, registry),
      // A new user: nothing configured, data in ~/.synthex.
      HOME: join(dir, 'home'),
      PAGERDUTY_EVENTS_URL: pagerduty.eventsUrl,
      PD_ROUTING_KEY: PagerDutyFake.ROUTING_KEY,
      SHOPIFY_TOKEN: shopifyToken,
      SLACK_URL: slack.webhookUrl,
      SYNTHEX_HOME: undefined,
    }
  })

  afterAll(async () => {
    await Promise.all([registry.close(), slack.close(), pagerduty.close(), new Promise((resolve) => pushgateway.close(resolve))])
  })

  // The tour runs on the embedded database: a run on the server only leaves it to the other run.
  if (backendNames().includes('pglite')) {
    it('works as shown: install, first run, the tour, every block in order, exit 0', {timeout: 300_000}, async () => {
      const tour = blocks(readme, '## Install and first run', '## Using a Postgres server or Supabase')
      expect(tour.length).toBeGreaterThanOrEqual(10)
      const outputs: string[] = []
      for (const [index, block] of tour.entries()) {
        const result = await shell(localise(block.code, substitutions, used), {cwd: join(dir, 'project'), env})
        outputs.push(result.stdout + result.stderr)
        expect(result.code, `README.md line ${block.line}:\n${block.code}\n--- stderr:\n${result.stderr}`).toBe(0)
        if (index === 0) {
          // The first run says where the data will live and what to do, and creates nothing.
          expect(result.stdout).toContain('YOUR DATA')
          expect(result.stdout.replace(/\s+/g, ' ')).toContain('None yet. The first command that needs it creates an embedded database in ~/.synthex/pgdata')
          expect(result.stdout).toContain('GETTING STARTED')
          await expect(stat(join(dir, 'home', '.synthex'))).rejects.toThrow()
        }
      }

      expect([...used].sort()).toEqual(substitutions.map(([from]) => from).sort())
      expect((await stat(join(dir, 'home', '.synthex', 'pgdata'))).isDirectory()).toBe(true)
      const all = outputs.join('\n')
      expect(all).toContain('acme-feeds')
      expect(all).not.toContain(shopifyToken)
      // `channels test` opens a test incident and resolves it at once.
      expect(pagerduty.events.map((event) => event.event_action)).toEqual(['trigger', 'resolve'])
      expect(pushes).toEqual(['PUT /metrics/job/synthex'])
      const textfile = await readFile(join(dir, 'home', 'textfile_collector', 'synthex.prom'), 'utf8')
      const tenants = [...textfile.matchAll(/^synthex_tenants\{.*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
      expect(tenants).toBe(3)
    })
  }

  if (backendNames().includes('postgres')) {
    it('works as shown on a Postgres server', {timeout: 120_000}, async () => {
      // Installed by the tour's first block; when this test runs alone, install it here.
      const project = join(dir, 'project')
      if (!(await stat(join(project, 'node_modules', 'synthex')).catch(() => undefined))) await installTarball(project, inject('tarball'), registry)
      const server = await createServerDatabase()
      try {
        const [block, ...rest] = blocks(readme, '## Using a Postgres server or Supabase', '## In CI and cron')
        expect(block).toBeDefined()
        expect(rest).toEqual([])
        const code = localise(block?.code ?? '', [["postgres://synthex:…@db.internal:5432/synthex?sslmode=require", server.url]], used)
        expect(code).toContain(server.url)
        const result = await shell(code, {cwd: join(dir, 'project'), env})
        expect(result.code, result.stderr).toBe(0)
        expect(result.stdout + result.stderr).toContain('0007_notification_order')
      } finally {
        await server.drop()
      }
    })
  }
})
