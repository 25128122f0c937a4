import {spawn} from 'node:child_process'
import {randomBytes, randomUUID} from 'node:crypto'
import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect, inject, it} from 'vitest'

import {BIN, type CliResult, cliEnv, parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {columnsContaining, withDatabase} from '../helpers/inspect-database.js'

interface Summary {
  committed: boolean
  created: number
  read: number
  rejected: number
  rejections: Array<{column: string | null; line: number; reason: string}>
  rotated: number
  skipped: number
  unchanged: number
}

const key = randomBytes(32).toString('base64')

function file(name: string, content: string, mode = 0o600): string {
  const path = join(inject('scratch'), `${process.pid}-${randomUUID()}-${name}`)
  writeFileSync(path, content)
  chmodSync(path, mode)
  return path
}

describeEachCliBackend('batch credentials set', (target) => {
  const run = (args: string[], options: {input?: string} = {}) => runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: `k:${key}`}, input: options.input})
  const tenants = async (prefix: string, count: number): Promise<void> => {
    let csv = 'tenant_id,name,type,shopify_shop\n'
    for (let index = 1; index <= count; index++) csv += `${prefix}-${index},T ${index},shopify,${prefix}-${index}.myshopify.com\n`
    const created = await run(['batch', 'tenants', 'create', '--from-csv', file('tenants.csv', csv)])
    expect(created.code, created.stderr).toBe(0)
  }

  it('stores a CSV of credentials, encrypted; loading it again changes nothing; no value ever shows', async () => {
    await tenants('bc', 3)
    const secrets = [1, 2, 3].map((index) => `shpat_${index}_${randomUUID()}`)
    const csv = `tenant_id,service,label,value,expires_in\nbc-1,shopify,,${secrets[0]},90d\nbc-2,shopify,admin,${secrets[1]},\nbc-3,gmc,,${secrets[2]},30d\n`
    const path = file('tokens.csv', csv)
    const transcript: CliResult[] = []
    const first = await run(['batch', 'credentials', 'set', '--from-file', path])
    transcript.push(first)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toBe('')
    expect(first.stderr).toMatch(/✓ Imported .*tokens\.csv in .*: 3 read, 3 created, 0 rotated, 0 unchanged, 0 skipped, 0 rejected\./)
    expect(first.stderr).not.toContain('can be read by other users')

    const again = await run(['batch', 'credentials', 'set', '--from-file', path])
    transcript.push(again)
    expect(again.code).toBe(0)
    expect(again.stderr).toMatch(/^Nothing changed from .*tokens\.csv \(.*\): 3 read, 0 created, 0 rotated, 3 unchanged, 0 skipped, 0 rejected\.$/m)
    expect(again.stderr).not.toContain('✓')


    const revealed = await run(['credentials', 'get', 'bc-2', '--service', 'shopify', '--label', 'admin', '--reveal'])
    expect(revealed.stdout).toBe(`${secrets[1]}\n`)
    const listed = await run(['credentials', 'list', '--json'])
    transcript.push(listed)
    const credentials = parseJson<{credentials: Array<{expiresAt: string | null; tenantId: string; version: number}>}>(listed).credentials.filter((row) => row.tenantId.startsWith('bc-'))
    expect(credentials.map((row) => [row.tenantId, row.version, row.expiresAt !== null])).toEqual([
      ['bc-1', 1, true],
      ['bc-2', 1, false],
      ['bc-3', 1, true],
    ])
    // The audit trail (events.data) is among the columns searched below.

    for (const result of transcript) for (const secret of secrets) expect(result.stdout + result.stderr).not.toContain(secret)
    const stored = await withDatabase(target(), async (db) => Promise.all(secrets.map((secret) => columnsContaining(db, secret))))
    expect(stored.flat()).toEqual([])
  })

  it('rejects bad JSON lines with every problem of a row at once, blanks the values in the reject file, and warns about a readable file', async () => {
    await tenants('bj', 2)
    const secret = `gmc_${randomUUID()}`
    const lines = [
      JSON.stringify({service: 'shopify', tenant_id: 'bj-1', value: `ok-${randomUUID()}`, expires_at: '2099-01-01'}),
      JSON.stringify({service: 'shopfy', tenant_id: 'bj 2', value: secret, expires_in: '90'}),
      `{"tenant_id":"bj-2","value":"${secret}"`,
      JSON.stringify({service: 'google', tenant_id: 'nobody', value: secret}),
      JSON.stringify({notes: 'x', service: 'google', tenant_id: 'bj-2', value: secret}),
    ]
    const path = file('tokens.jsonl', `${lines.join('\n')}\n`, 0o644)
    const rejects = file('rejects.csv', '')
    const result = await run(['batch', 'credentials', 'set', '--from-file', path, '--reject-file', rejects])
    expect(result.code).toBe(3)
    expect(result.stderr).toContain('can be read by other users (mode 644) and holds secrets')
    expect(result.stderr).toMatch(/^Imported .*tokens\.jsonl in part \(.*\): 5 read, 1 created, 0 rotated, 0 unchanged, 0 skipped, 4 rejected\.$/m)
    expect(result.stderr).not.toContain('✓')
    expect(result.stderr).toContain(
      'line 2: tenant_id: may contain only letters, digits, "_" and "-"; service: must be one of shopify, google, gmc; expires_in: is not a duration such as 90d, 12w or 36h (a unit is required)',
    )
    expect(result.stderr).toContain('line 3: is not valid JSON')
    expect(result.stderr).toContain('line 4: tenant_id: tenant "nobody" does not exist in workspace "default"')
    expect(result.stderr).toContain('line 5: unknown key "notes" (use --ignore-unknown-columns to skip them)')
    const written = readFileSync(rejects, 'utf8')
    expect(written.split('\n')[0]).toBe('tenant_id,service,label,value,expires_at,expires_in,error')
    expect(written).toContain('bj 2,shopfy,,,,90,"line 2: tenant_id:')
    expect(written + result.stdout + result.stderr).not.toContain(secret)

    const ignoring = await run(['batch', 'credentials', 'set', '--from-file', file('notes.jsonl', `${lines[4]}\n`), '--ignore-unknown-columns', '--json'])
    expect(ignoring.code).toBe(0)
    expect(parseJson<Summary>(ignoring)).toMatchObject({created: 1, rejected: 0})
  })

  it('says what happened: would create on a dry run, rolled back under --atomic, rotated with --on-conflict rotate', async () => {
    await tenants('bo', 2)
    const csv = (value: string) => `tenant_id,service,value\nbo-1,shopify,${value}-1\nbo-2,shopify,${value}-2\n`
    const dry = await run(['batch', 'credentials', 'set', '--from-file', file('dry.csv', csv('a')), '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stderr).toMatch(/^Dry run of .*dry\.csv \(.*\): 2 read, would create 2, would rotate 0, 0 unchanged, 0 skipped, 0 rejected\. Nothing was written\.$/m)
    expect(dry.stderr).not.toContain('✓')

    const atomic = await run(['batch', 'credentials', 'set', '--from-file', file('atomic.csv', `${csv('a')}bo-3,shopify,x\n`), '--atomic'])
    expect(atomic.code).toBe(3)
    expect(atomic.stderr).toMatch(/^Rolled back: nothing written from .*atomic\.csv \(--atomic, .*\): 3 read, 1 rejected; fix the rejected rows and run it again\.$/m)
    expect(atomic.stderr).not.toMatch(/\d created/)

    const stored = await run(['batch', 'credentials', 'set', '--from-file', '-', '--json'], {input: csv('a')})
    expect(parseJson<Summary>(stored)).toMatchObject({created: 2})
    const conflict = await run(['batch', 'credentials', 'set', '--from-file', file('b.csv', csv('b')), '--json'])
    expect(conflict.code).toBe(3)
    expect(parseJson<Summary>(conflict).rejections[0]?.reason).toContain('already has a credential with another value (version 1')
    const rotated = await run(['batch', 'credentials', 'set', '--from-file', file('b.csv', csv('b')), '--on-conflict', 'rotate', '--json'])
    expect(rotated.code).toBe(0)
    expect(parseJson<Summary>(rotated)).toMatchObject({created: 0, rejected: 0, rotated: 2})
    const revealed = await run(['credentials', 'get', 'bo-2', '--service', 'shopify', '--reveal'])
    expect(revealed.stdout).toBe('b-2\n')
  })

  it('says how many credentials an interrupted run kept, and re-running it finishes the job', async () => {
    await tenants('bi', 160)
    const child = spawn(process.execPath, [BIN, 'batch', 'credentials', 'set', '--from-file', '-', '--chunk-size', '50'], {env: cliEnv({...target().env, SYNTHEX_ENCRYPTION_KEY: `k:${key}`})})
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
    const lines = ['tenant_id,service,value', ...Array.from({length: 160}, (_, index) => `bi-${index + 1},shopify,token-${index + 1}`)]
    // Two whole chunks (100 rows) and part of a third; then a row now and then until the
    // progress line shows the two chunks committed; then an interruption.
    child.stdin.write(`${lines.slice(0, 121).join('\n')}\n`)
    for (let next = 121; !stderr.includes('Storing credentials:'); next++) {
      expect(next, 'a progress line within 20 s').toBeLessThan(160)
      await new Promise((resolve) => setTimeout(resolve, 500))
      child.stdin.write(`${lines[next]}\n`)
    }

    child.kill('SIGTERM')
    expect(await closed).toBe(130)
    const after = stderr.slice(stderr.indexOf('Error: Interrupted by SIGTERM.'))
    expect(after.split('\n').slice(0, 2)).toEqual([
      'Error: Interrupted by SIGTERM.',
      'Kept: 100 credentials written and committed before the interruption (100 created, 0 rotated), in whole chunks.',
    ])
    expect(after).not.toContain('Storing credentials:')

    const rerun = await run(['batch', 'credentials', 'set', '--from-file', '-', '--json'], {input: `${lines.join('\n')}\n`})
    expect(rerun.code).toBe(0)
    expect(parseJson<Summary>(rerun)).toMatchObject({created: 60, rejected: 0, unchanged: 100})
  })
})
