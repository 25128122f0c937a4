import {spawn} from 'node:child_process'
import {chmodSync, lstatSync, mkdtempSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, inject, it} from 'vitest'

import {acquireEmbeddedLock} from '../../src/db/embedded-lock.js'
import {BIN, cliEnv, type CliResult, makeHome, parseJson, runCli} from '../helpers/cli.js'

const quote = (part: string): string => `'${part.replaceAll("'", "'\\''")}'`

/** The built CLI under a umask (a shell sets it, as a login or a cron job would). */
function runUnderUmask(umask: string, args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `umask ${umask} && exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`], {env: cliEnv(env)})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code, signal, stderr, stdout}))
    child.stdin.end(input)
  })
}

/** Every file and directory under `root` (itself included) that its group or others may read, write or enter. */
function shared(root: string): string[] {
  const found: string[] = []
  const visit = (path: string): void => {
    const stats = lstatSync(path)
    if ((stats.mode & 0o077) !== 0) found.push(`${path} ${(stats.mode & 0o777).toString(8)}`)
    if (stats.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name))
  }

  visit(root)
  return found
}

function count(root: string): number {
  return lstatSync(root).isDirectory() ? 1 + readdirSync(root).reduce((sum, name) => sum + count(join(root, name)), 0) : 1
}

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8)
const create = (id: string) => ['tenant', 'tenants', 'create', '--tenant-id', id, '--name', `Tenant ${id}`, '--type', 'shopify', '--shopify-shop', `${id}.myshopify.com`]

describe('$SYNTHEX_HOME is private to its owner [embedded]', () => {
  for (const umask of ['000', '077']) {
    it(`is created under umask ${umask} with nothing that the group or others can read or write, the lock and key files 0600`, async () => {
      // A home that does not exist yet: synthex creates it, its database and its key file.
      const home = join(mkdtempSync(join(inject('scratch'), 'umask-')), 'synthex')
      const env = {SYNTHEX_HOME: home}
      const created = await runUnderUmask(umask, create('private-1'), env)
      expect(created.code, created.stderr).toBe(0)
      const sealed = await runUnderUmask(umask, ['credentials', 'set', 'private-1', '--service', 'shopify', '--value-stdin'], env, 'shpat_private\n')
      expect(sealed.code, sealed.stderr).toBe(0)

      // The lock file, taken under the same umask (this test process's, for a moment).
      const previous = process.umask(Number.parseInt(umask, 8))
      try {
        const lock = await acquireEmbeddedLock(join(home, 'pgdata'), {command: 'test', timeoutMs: 1000})
        expect(mode(lock.path)).toBe('600')
        lock.release()
      } finally {
        process.umask(previous)
      }

      expect(mode(home)).toBe('700')
      expect(mode(join(home, 'pgdata'))).toBe('700')
      expect(mode(join(home, 'encryption.key'))).toBe('600')
      // Over a thousand files: the database's catalogs, its WAL, postgresql.conf.
      expect(count(home)).toBeGreaterThan(1000)
      expect(shared(home)).toEqual([])
    })
  }

  it('makes a home loosened with chmod -R 0777 private again, with one warning naming it', async () => {
    const home = await makeHome()
    const env = {SYNTHEX_HOME: home}
    expect((await runCli(create('loose-1'), {env})).code).toBe(0)
    expect((await runCli(['credentials', 'set', 'loose-1', '--service', 'shopify', '--value-stdin'], {env, input: 'shpat_loose\n'})).code).toBe(0)
    expect(shared(home)).toEqual([])
    chmodSync(home, 0o777)
    for (const path of walk(home)) chmodSync(path, 0o777)
    expect(shared(home).length).toBeGreaterThan(1000)

    const repaired = await runCli(['tenant', 'tenants', 'list', '--json'], {env})
    expect(repaired.code).toBe(0)
    expect(parseJson<{tenants: Array<{tenantId: string}>}>(repaired).tenants.map((tenant) => tenant.tenantId)).toEqual(['loose-1'])
    const warnings = repaired.stderr.split('\n').filter((line) => line.startsWith('Warning:'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(new RegExp(`^Warning: ${home} could be read by other users \\(mode 0777\\); synthex made it private \\(0700\\), and [\\d,]+ files and directories in it\\.`))
    expect(shared(home)).toEqual([])
    expect(mode(home)).toBe('700')
    expect(mode(join(home, 'encryption.key'))).toBe('600')

    const again = await runCli(['tenant', 'tenants', 'list'], {env})
    expect(again.code).toBe(0)
    expect(again.stderr).not.toContain('Warning')
  })
})

function walk(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name)
    return lstatSync(path).isDirectory() ? [path, ...walk(path)] : [path]
  })
}
