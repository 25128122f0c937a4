import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, makeHome, parseJson, runCli} from '../helpers/cli.js'

/**
 * Issue 13, point 3: a refused command line says which flag or argument is wrong and what it
 * accepts, in synthex's words and never oclif's, with exit 2 and error.code USAGE under
 * --json; what was typed as a stray argument is never repeated. None of these needs a
 * database, so they run side by side.
 */

const TOKEN = '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'
/** oclif's and csv-parse's own wording, which synthex rewrites. */
const RAW = /::|The following errors? occurred|Nonexistent flag|See more help|Expected --|Missing \d+ required|Unexpected argument|cannot also be provided|Parsing --|This is a bug|Quote Not Closed/

interface Case {
  readonly args: string[]
  readonly input?: string
  readonly says: string
}

const CASES: Case[] = [
  {args: ['credentials', 'set', 'acme', '--service', 'shopify', '--value-stdin', '--expires-in', '90'], input: TOKEN, says: '--expires-in needs a unit: 90d (days), 90h (hours) or 90w (weeks).'},
  {args: ['credentials', 'set', 'acme', '--service', 'shopfy', '--value-stdin'], input: TOKEN, says: '--service must be one of shopify, google, gmc.'},
  {args: ['credentials', 'set', 'acme', '--service', 'shopify', '--valu-stdin'], input: TOKEN, says: 'Unknown flag --valu-stdin, did you mean --value-stdin?'},
  {args: ['credentials', 'set', 'acme', '--service', 'shopify', '--value-stdin', '--from-env', 'SHOPIFY_TOKEN'], input: TOKEN, says: '--from-env and --value-stdin cannot be used together: give one of them.'},
  {args: ['credentials', 'set', 'acme', TOKEN, '--service', 'shopify', '--value-stdin'], says: 'An unexpected argument (not repeated here, in case it is a secret): `synthex credentials set` takes TENANT-ID.'},
  {args: ['credentials', 'set', '--service', 'shopify', '--value-stdin'], input: TOKEN, says: "Missing TENANT-ID: the tenant's id in its workspace."},
  {args: ['credentials', 'set', 'acme', '--value-stdin'], input: TOKEN, says: '--service is required: one of shopify, google, gmc.'},
  {args: ['credentials', 'set', 'acme', '--service', 'shopify', '--value-stdin', '--expires-in'], input: TOKEN, says: '--expires-in needs a value (<duration>).'},
  {args: ['alerts', 'ack', 'abc'], says: 'ALERT-ID: "abc" is not a whole number: give a whole number from 1 to 9007199254740991.'},
  {args: ['alerts', 'ack'], says: "Missing ALERT-ID: the alert's id (from `synthex alerts list`)."},
  {args: ['alerts', 'rules', 'set', 'health_failng'], says: 'RULE must be one of credential_expiring, credential_expired, credential_invalid, credential_scopes_missing, health_failing, tenant_api_errors, tenant_api_slow, tenant_inactive.'},
  {args: ['tenant', 'tenants', 'list', '--csv', '--status', 'gone'], says: '--status must be one of active, inactive, suspended.'},
  {args: ['tenant', 'tenants', 'list', '--limit', 'lots'], says: '--limit: "lots" is not a whole number: give a whole number from 1 to 10000.'},
  {args: ['tenant', 'tenants', 'list', '--limit', '5', '--limit', '6'], says: '--limit is given more than once: give it once.'},
  {args: ['tenant', 'tenants', 'get', 'acme', 'extra'], says: 'An unexpected argument (not repeated here, in case it is a secret): `synthex tenant tenants get` takes TENANT-ID.'},
  {args: ['health', 'check', '--timeout', '10'], says: '--timeout needs a unit: 10s (seconds) or 10m (minutes).'},
]

describe('usage errors name the flag and what it accepts (issue 13, point 3)', () => {
  let home: string
  const run = (args: string[], input?: string) => runCli(args, {env: {SYNTHEX_HOME: home}, input})

  beforeAll(async () => {
    home = await makeHome({fresh: true})
  })

  it('says each mistake in words, on stderr and as the --json error, with exit 2, never repeating a stray argument', async () => {
    const runs = CASES.flatMap(({args, input}) => [{args, input}, {args: [...args, '--json'], input}])
    const results: CliResult[] = []
    for (let index = 0; index < runs.length; index += 4) {
      results.push(...(await Promise.all(runs.slice(index, index + 4).map(({args, input}) => run(args, input)))))
    }

    for (const [index, {args, says}] of CASES.entries()) {
      const what = args.join(' ')
      const plain = results[2 * index] as CliResult
      const json = results[2 * index + 1] as CliResult
      expect(plain.code, what).toBe(2)
      expect(plain.stdout, what).toBe('')
      expect(plain.stderr.split('\n')[0], what).toBe(`Error: ${says}`)
      expect(plain.stderr, what).toMatch(/\nHint: |^Error: [^\n]*\n$/)
      expect(json.code, what).toBe(2)
      const {error} = parseJson<{error: {code: string; exitCode: number; hint?: string; message: string}}>(json)
      expect(error, what).toMatchObject({code: 'USAGE', exitCode: 2, message: says})
      for (const output of [plain.stdout, plain.stderr, json.stdout, json.stderr]) {
        expect(output, what).not.toMatch(RAW)
        expect(output, what).not.toContain(TOKEN)
      }
    }

    // Refused before anything was opened.
    expect(existsSync(join(home, 'pgdata'))).toBe(false)
  })

  it('suggests --json for --jsn, and names --flag=value without its value', async () => {
    const [typo, valued] = await Promise.all([run(['tenant', 'tenants', 'list', '--jsn']), run(['credentials', 'set', 'acme', '--service', 'shopify', `--token=${TOKEN}`])])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toBe('Error: Unknown flag --jsn, did you mean --json?\nHint: Run `synthex tenant tenants list --help` for its arguments, flags and examples.\n')
    expect(valued.code).toBe(2)
    expect(valued.stderr.split('\n')[0]).toBe('Error: Unknown flag --token.')
    expect(valued.stderr).not.toContain(TOKEN)
  })

  it('never reads a missing argument from piped standard input, where the secret is', async () => {
    const result = await run(['credentials', 'set', '--service', 'shopify', '--from-env', 'HOME', '--json'], TOKEN)
    expect(result.code).toBe(2)
    expect(parseJson<{error: {message: string}}>(result).error.message).toBe("Missing TENANT-ID: the tenant's id in its workspace.")
    expect(result.stdout + result.stderr).not.toContain(TOKEN)
  })
})
