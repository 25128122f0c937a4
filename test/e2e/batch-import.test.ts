import {spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect, inject, it} from 'vitest'

import {BIN, cliEnv, parseJson, runCli} from '../helpers/cli.js'
import {type CliTarget, describeEachCliBackend, ownTarget} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'

interface Summary {
  committed: boolean
  created: number
  read: number
  rejected: number
  rejections: Array<{column: string | null; line: number; reason: string}>
  skipped: number
  updated: number
}

const HEADER = 'tenant_id,name,type,shopify_shop,gmc_merchant_id,market,region,status\n'

function file(name: string, content: Buffer | string): string {
  const path = join(inject('scratch'), `${process.pid}-${Date.now()}-${name}`)
  writeFileSync(path, content)
  return path
}

function tenantsCsv(prefix: string, count: number): string {
  let text = HEADER
  for (let index = 0; index < count; index++) text += `${prefix}-${String(index).padStart(6, '0')},Tenant ${index},shopify,${prefix}-${index}.myshopify.com,,US,emea,active\n`
  return text
}

describeEachCliBackend('batch tenants create', (target) => {
  const run = (args: string[], options: {env?: Record<string, string>; input?: string} = {}) =>
    runCli(['batch', 'tenants', 'create', ...args], {env: {...target().env, ...options.env}, input: options.input})
  /** Tenants whose id starts with `prefix-`, counted page by page as a script would. */
  const count = async (prefix: string, on: CliTarget = target()): Promise<number> => {
    let total = 0
    let after: string | null = null
    do {
      const listed = await runCli(['tenant', 'tenants', 'list', '--search', `${prefix}-`, '--limit', '10000', '--json', ...(after ? ['--after', after] : [])], {env: on.env})
      const page = parseJson<{nextCursor: string | null; tenants: unknown[]}>(listed)
      total += page.tenants.length
      after = page.nextCursor
    } while (after)

    return total
  }

  it('imports a clean file and exits 0, with the summary on stderr and nothing on stdout', async () => {
    const result = await run(['--from-csv', file('clean.csv', tenantsCsv('clean', 25))])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/Imported .*clean\.csv in (\d+ ms|[\d.]+s \([\d,]+ rows\/s\)): 25 read, 25 created, 0 updated, 0 skipped, 0 rejected\./)
    expect(await count('clean')).toBe(25)
  })

  it('exits 3 when rows are rejected, lists them, and writes them to the reject file to fix and feed back', async () => {
    const csv =
      HEADER +
      'mixed-1,Good,shopify,mixed-1.myshopify.com,,,,\n' +
      'mixed 2,Bad id,shopify,mixed-2.myshopify.com,,,,\n' +
      'mixed-3,No shop,shopify,,,,,\n' +
      'mixed-4,"Quoted, ""name""",shopify,mixed-4.myshopify.com,,UK,,\n'
    const rejects = file('rejects.csv', '')
    const result = await run(['--from-csv', file('mixed.csv', csv), '--reject-file', rejects])
    expect(result.code).toBe(3)
    expect(result.stderr).toContain('line 3: tenant_id: may contain only letters, digits, "_" and "-"')
    expect(result.stderr).toContain('line 4: shopify_shop: is required for type shopify')
    expect(result.stderr).toContain(`The rejected rows are in ${rejects}`)
    const written = readFileSync(rejects, 'utf8')
    expect(written.split('\n')[0]).toBe('tenant_id,name,type,shopify_shop,gmc_merchant_id,market,region,status,error')
    expect(written).toContain('mixed-4,"Quoted, ""name""",shopify,mixed-4.myshopify.com,,UK,,,"line 5: market: must be an ISO 3166-1 alpha-2 country code')

    // Fix the rejected rows in place and import the reject file itself.
    const fixed = written.replace('mixed 2', 'mixed-2').replace('mixed-3,No shop,shopify,', 'mixed-3,No shop,shopify,mixed-3.myshopify.com').replace(',UK,', ',GB,')
    const again = await run(['--from-csv', file('fixed.csv', fixed), '--json'])
    expect(again.code).toBe(0)
    expect(parseJson<Summary>(again)).toMatchObject({created: 3, rejected: 0})
    expect(await count('mixed')).toBe(4)
  })

  it('writes every rejected row to the reject file, whichever stage rejected it', async () => {
    // Invalid rows (rejected while parsing) and existing ids (rejected by the writer) interleave.
    await run(['--from-csv', file('existing.csv', tenantsCsv('rf', 40))])
    let csv = HEADER
    for (let index = 0; index < 120; index++) csv += index % 3 === 0 ? `rf bad ${index},X,shopify,x.myshopify.com,,,,\n` : `rf-${String(index).padStart(6, '0')},T,shopify,rf-${index}.myshopify.com,,,,\n`
    const rejects = file('all-rejects.csv', '')
    const result = await run(['--from-csv', file('rf.csv', csv), '--reject-file', rejects, '--chunk-size', '7', '--json'])
    const summary = parseJson<Summary>(result)
    expect(summary.rejected).toBeGreaterThan(40)
    const lines = readFileSync(rejects, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(summary.rejected + 1)
  })

  it('refuses a reject file it cannot write before importing anything (exit 2)', async () => {
    const result = await run(['--from-csv', file('rfx.csv', tenantsCsv('rfx', 5)), '--reject-file', '/nonexistent/dir/rejects.csv'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--reject-file: /nonexistent/dir/rejects.csv cannot be written (ENOENT).')
    expect(await count('rfx')).toBe(0)
  })

  it('prints one JSON summary with --json, rejections included', async () => {
    const result = await run(['--from-csv', file('json.csv', `${HEADER}json-1,J,shopify,json-1.myshopify.com,,,,\njson-1,Again,shopify,json-1b.myshopify.com,,,,\n`), '--json'])
    expect(result.code).toBe(3)
    expect(parseJson<Summary>(result)).toMatchObject({
      committed: true,
      created: 1,
      read: 2,
      rejected: 1,
      rejections: [{column: 'tenant_id', line: 3, reason: 'tenant_id: "json-1" is a duplicate of line 2'}],
    })
  })

  it('reads standard input with --from-csv -', async () => {
    const result = await run(['--from-csv', '-', '--json'], {input: tenantsCsv('stdin', 12)})
    expect(result.code).toBe(0)
    expect(parseJson<Summary>(result).created).toBe(12)
  })

  it('refuses a file it cannot read, or whose header is wrong, before importing anything (exit 2)', async () => {
    const missing = await run(['--from-csv', '/nonexistent/tenants.csv'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('--from-csv: /nonexistent/tenants.csv does not exist.')

    const header = await run(['--from-csv', file('header.csv', 'tenant_id,name,tpye\nhdr-1,H,shopify\n'), '--json'])
    expect(header.code).toBe(2)
    expect(parseJson<{error: {code: string; message: string}}>(header).error).toMatchObject({code: 'CSV_INVALID'})
    expect(parseJson<{error: {message: string}}>(header).error.message).toContain('unknown column "tpye" (column 3); missing required column type')
    expect(await count('hdr')).toBe(0)
  })

  it('rejects the rows of a Windows-1252 file with a hint, keeping the others', async () => {
    const bytes = Buffer.concat([Buffer.from(`${HEADER}cp-1,Plain,shopify,cp-1.myshopify.com,,,,\ncp-2,Caf`), Buffer.from([0xe9]), Buffer.from(',shopify,cp-2.myshopify.com,,,,\n')])
    const result = await run(['--from-csv', file('excel.csv', bytes), '--json'])
    expect(result.code).toBe(3)
    const summary = parseJson<Summary>(result)
    expect(summary).toMatchObject({created: 1, rejected: 1})
    expect(summary.rejections[0]).toMatchObject({column: 'name', line: 3})
    expect(summary.rejections[0]?.reason).toContain('save it as "CSV UTF-8"')
  })

  it('imports nothing with --atomic when a row is rejected, and nothing ever with --dry-run', async () => {
    const atomic = await run(['--from-csv', file('atomic.csv', `${tenantsCsv('atomic', 10)}atomic-x,,shopify,x.myshopify.com,,,,\n`), '--atomic'])
    expect(atomic.code).toBe(3)
    expect(atomic.stderr).toMatch(/^Rolled back: nothing written from .*atomic\.csv \(--atomic, .*\): 11 read, 1 rejected; fix the rejected rows and run it again\.$/m)
    expect(atomic.stderr).not.toMatch(/✓|\d+ created/)
    expect(await count('atomic')).toBe(0)

    const dry = await run(['--from-csv', file('dry.csv', tenantsCsv('dry', 10)), '--dry-run', '--json'])
    expect(dry.code).toBe(0)
    expect(parseJson<Summary>(dry)).toMatchObject({committed: false, created: 10})
    const dryHuman = await run(['--from-csv', file('dry2.csv', tenantsCsv('dry', 2)), '--dry-run'])
    expect(dryHuman.stderr).toMatch(/^Dry run of .*dry2\.csv \(.*\): 2 read, would create 2, would update 0, 0 skipped, 0 rejected\. Nothing was written\.$/m)
    expect(dryHuman.stderr).not.toContain('✓')
    expect(await count('dry')).toBe(0)
  })

  it('puts a ✓ only on a run that wrote rows and rejected none', async () => {
    const path = file('mark.csv', `${tenantsCsv('mark', 2)}mark bad,X,shopify,x.myshopify.com,,,,\n`)
    const partial = await run(['--from-csv', path])
    expect(partial.code).toBe(3)
    expect(partial.stderr).toMatch(/^Imported .*mark\.csv in part \(.*\): 3 read, 2 created, 0 updated, 0 skipped, 1 rejected\.$/m)
    const nothing = await run(['--from-csv', path, '--on-conflict', 'skip'])
    expect(nothing.code).toBe(3)
    expect(nothing.stderr).toMatch(/^Nothing written from .*mark\.csv \(.*\): 3 read, 0 created, 0 updated, 2 skipped, 1 rejected\.$/m)
    const unchanged = await run(['--from-csv', file('same.csv', tenantsCsv('mark', 2)), '--on-conflict', 'update'])
    expect(unchanged.code).toBe(0)
    expect(unchanged.stderr).toMatch(/^Nothing changed from .*same\.csv \(.*\): 2 read, 0 created, 0 updated, 2 skipped, 0 rejected\.$/m)
    for (const result of [partial, nothing, unchanged]) expect(result.stderr).not.toContain('✓')
  })

  it('reports every problem of a row at once, names unknown columns, and skips them with --ignore-unknown-columns', async () => {
    const sheet = 'tenant_id,name,type,shopify_shop,notes,Owner\nsheet-1,Sheet,shopify,sheet-1.myshopify.com,call back,ana\nsheet 2,,shop,,x,y\n'
    const refused = await run(['--from-csv', file('sheet.csv', sheet)])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('unknown columns "notes" (column 5), "Owner" (column 6)')
    expect(refused.stderr).toContain('--ignore-unknown-columns')
    expect(await count('sheet')).toBe(0)

    const ignored = await run(['--from-csv', file('sheet.csv', sheet), '--ignore-unknown-columns'])
    expect(ignored.code).toBe(3)
    expect(ignored.stderr).toContain('Ignored columns: notes, Owner.')
    expect(ignored.stderr).toContain('line 3: tenant_id: may contain only letters, digits, "_" and "-"; name: is required; type: must be one of shopify, google_merchant, mixed')
    expect(await count('sheet')).toBe(1)
  })

  it('says how many rows an interrupted import kept and how to finish, on a line of its own, in --json too', async () => {
    // Plain and --json side by side, each on a database of its own: most of it is waiting.
    const interrupt = async (json: boolean): Promise<void> => {
      const prefix = json ? 'sigj' : 'sig'
      const own = await ownTarget(target())
      const child = spawn(process.execPath, [BIN, 'batch', 'tenants', 'create', '--from-csv', '-', '--chunk-size', '100', ...(json ? ['--json'] : [])], {env: cliEnv(own.env)})
      let stderr = ''
      let stdout = ''
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
      // Two whole chunks (200 rows) and half of a third; then a row now and then (the third
      // chunk never fills) until the progress line (every 5 s in logs) shows the two chunks
      // committed; then an interruption.
      const rows = tenantsCsv(prefix, 300).split('\n')
      child.stdin.write(`${rows.slice(0, 251).join('\n')}\n`)
      for (let next = 251; !stderr.includes('Importing:'); next++) {
        expect(next, 'a progress line within 20 s').toBeLessThan(290)
        await new Promise((resolve) => setTimeout(resolve, 500))
        child.stdin.write(`${rows[next]}\n`)
      }

      child.kill('SIGINT')
      expect(await closed).toBe(130)
      if (json) {
        const error = (JSON.parse(stdout) as {error: {code: string; details: Record<string, number>; hint: string; message: string}}).error
        expect(error).toMatchObject({code: 'INTERRUPTED', details: {created: 200, kept: 200, updated: 0}})
        expect(error.message).toContain('Kept: 200 rows written and committed before the interruption (200 created, 0 updated), in whole chunks.')
        expect(error.hint).toContain('--on-conflict skip')
      } else {
        const after = stderr.slice(stderr.indexOf('Error: Interrupted by SIGINT.'))
        expect(after.split('\n').slice(0, 3)).toEqual([
          'Error: Interrupted by SIGINT.',
          'Kept: 200 rows written and committed before the interruption (200 created, 0 updated), in whole chunks.',
          'Run the same command again with --on-conflict skip to finish the job: the tenants already imported are skipped.',
        ])
        expect(after).not.toContain('Importing:')
      }

      expect(await count(prefix, own)).toBe(200)
    }

    await Promise.all([interrupt(false), interrupt(true)])
  })

  it('leaves only whole chunks when killed at random moments, and a re-run with skip completes it exactly', async () => {
    // Each run reads the file from stdin and is given all of it but the last row, so it can
    // never finish before its kill, however fast the machine: every kill lands mid-import.
    // The first two land at random moments (perhaps before anything is committed); the last
    // at a random moment after the progress line has shown rows committed (created, or
    // skipped as an earlier run's), so the re-run has something to skip.
    const rows = 20_000
    const chunk = 250
    const csv = tenantsCsv('kill', rows)
    const path = file('kill.csv', csv)
    const allButLast = csv.slice(0, csv.lastIndexOf('\n', csv.length - 2) + 1)
    // Counted in the database itself: listing twenty thousand rows page by page would cost
    // more than the import.
    const stored = () => withDatabase(target(), async (db) => Number((await db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', 'like', 'kill-%').executeTakeFirstOrThrow()).n))
    const lines = allButLast.split('\n').slice(0, -1).map((line) => `${line}\n`)
    const killAt = async (feed: (write: (text: string) => void, stderr: () => string) => Promise<void>): Promise<void> => {
      const child = spawn(process.execPath, [BIN, 'batch', 'tenants', 'create', '--from-csv', '-', '--on-conflict', 'skip', '--chunk-size', String(chunk)], {env: cliEnv(target().env)})
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text))
      child.stdout.resume()
      child.stdin.on('error', () => {}) // the kill may come while the pipe is still being written
      const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)))
      await feed((text) => child.stdin.write(text), () => stderr)
      child.kill('SIGKILL')
      expect(await closed).toBe('SIGKILL')
      const imported = await stored()
      expect(imported % chunk, `after a SIGKILL: ${imported} rows`).toBe(0)
      expect(imported).toBeLessThan(rows)
    }

    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
    const atRandom = async (write: (text: string) => void): Promise<void> => {
      write(allButLast)
      await sleep(300 + Math.floor(Math.random() * 1700))
    }

    await killAt(atRandom)
    await killAt(atRandom)
    // The progress line comes in logs after a written chunk at least 5 s in: the rows are
    // given a chunk every 500 ms after the first 5,000, so chunks are still being written then.
    await killAt(async (write, stderr) => {
      write(lines.slice(0, 5001).join(''))
      let next = 5001
      while (!/Importing: .*\b[1-9][\d,]* (created|skipped)/.test(stderr())) {
        expect(next, `a progress line with rows created or skipped:\n${stderr()}`).toBeLessThan(lines.length)
        await sleep(500)
        write(lines.slice(next, next + chunk).join(''))
        next += chunk
      }

      await sleep(Math.floor(Math.random() * 500))
    })

    const before = await stored()
    expect(before).toBeGreaterThan(0)
    const rerun = await run(['--from-csv', path, '--on-conflict', 'skip', '--chunk-size', String(chunk), '--json'])
    expect(rerun.code).toBe(0)
    expect(parseJson<Summary>(rerun)).toMatchObject({created: rows - before, rejected: 0, skipped: before})
    expect(await stored()).toBe(rows)
  })
})
