import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {PGlite} from '@electric-sql/pglite'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'

import {makeTreePrivate} from '../../src/db/private-home.js'
import {createServerDatabase, describeOnServer} from '../helpers/backends.js'
import {BIN, cliEnv, type CliResult, makeHome, parseJson, runCli} from '../helpers/cli.js'
import {mountTmpfs, type Tmpfs} from '../helpers/tmpfs.js'

interface ErrorBody {
  error: {code: string; details?: Record<string, unknown>; exitCode: number; hint?: string; message: string}
}

const list = ['tenant', 'tenants', 'list', '--json']

/** A home whose database is the migrated test template, created where the test says. */
async function homeAt(home: string): Promise<void> {
  mkdirSync(home, {mode: 0o700})
  const client = await PGlite.create(join(home, 'pgdata'), {loadDataDir: new Blob([readFileSync(inject('pgliteTemplate'))])})
  await client.close()
  makeTreePrivate(home)
}

/** A failure a person can act on: exit 1, one JSON error, and never "a bug in synthex". */
function failure(result: CliResult): ErrorBody['error'] {
  expect(result.signal).toBeNull()
  expect(result.code, result.stdout + result.stderr).toBe(1)
  const {error} = parseJson<ErrorBody>(result)
  expect(error.code).not.toBe('INTERNAL_ERROR')
  expect(error.message).not.toContain('[object Object]')
  expect(error.hint).toBeTruthy()
  return error
}

describe('the embedded database on a file system that is full, read-only or not ours [embedded]', () => {
  let disk: Tmpfs
  let home = ''

  beforeAll(async () => {
    disk = mountTmpfs(64)
    home = join(disk.path, 'home')
    await homeAt(home)
  })

  afterAll(() => {
    disk?.unmount()
  })

  it('reports a full disk on a read command as "no space left on device at <path>", and works again once there is room', async () => {
    const env = {SYNTHEX_HOME: home}
    expect((await runCli(list, {env})).code).toBe(0)

    // Full to the last byte: the lock file cannot be written.
    disk.fill()
    const full = failure(await runCli(list, {env}))
    expect(full).toMatchObject({code: 'STORAGE_ERROR', details: {errno: 'ENOSPC', path: join(home, 'pgdata.lock')}, message: `No space left on device at ${join(home, 'pgdata.lock')}.`})
    expect(full.hint).toContain('Free some space')
    const text = await runCli(['tenant', 'tenants', 'list'], {env})
    expect(text.code).toBe(1)
    expect(text.stderr).toContain(`Error: No space left on device at ${join(home, 'pgdata.lock')}.`)
    expect(text.stderr).not.toContain('bug in synthex')

    // Room for the lock file but not for Postgres to start.
    disk.release()
    disk.fill(4096)
    expect(failure(await runCli(list, {env}))).toMatchObject({code: 'STORAGE_ERROR', message: `No space left on device at ${join(home, 'pgdata')}.`})

    disk.release()
    expect((await runCli(list, {env})).code).toBe(0)
    // Nothing left behind by the failed attempts.
    expect(readdirSync(home)).toEqual(['pgdata'])
  })

  it('reports a read-only file system as such', async () => {
    disk.remount('ro')
    try {
      expect(failure(await runCli(list, {env: {SYNTHEX_HOME: home}}))).toMatchObject({
        code: 'STORAGE_ERROR',
        details: {errno: 'EROFS'},
        message: `Read-only file system at ${join(home, 'pgdata.lock')}.`,
      })
    } finally {
      disk.remount('rw')
    }
  })
})

describe('an embedded database that cannot be opened [embedded]', () => {
  it('reports a home it may not enter as permission denied (run as another user)', async () => {
    const home = await makeHome()
    // The home is root's (0700); the command runs as nobody, with a HOME of its own for oclif.
    const nobodyHome = mkdtempSync(join('/tmp', 'synthex-nobody-'))
    const result = await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...list], {env: cliEnv({HOME: nobodyHome, SYNTHEX_HOME: home}), gid: 65_534, uid: 65_534})
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
      child.on('error', reject)
      child.on('close', (code, signal) => resolve({code, signal, stderr, stdout}))
    }).finally(() => rmSync(nobodyHome, {force: true, recursive: true}))
    expect(failure(result)).toMatchObject({code: 'STORAGE_ERROR', details: {errno: 'EACCES'}, message: `Permission denied at ${home}.`})
  })

  it('describes a data directory that is a file, or damaged, in words: never "[object Object]"', async () => {
    const cases: Array<[string, (dataDir: string) => void, string]> = [
      [
        'a file',
        (dataDir) => {
          rmSync(dataDir, {force: true, recursive: true})
          writeFileSync(dataDir, 'not a database\n', {mode: 0o600})
        },
        'it is a file, not a directory',
      ],
      ['from another version', (dataDir) => writeFileSync(join(dataDir, 'PG_VERSION'), '99\n'), 'Postgres did not start, which a damaged data directory, or one from another version, causes'],
      ['with a truncated control file', (dataDir) => truncateSync(join(dataDir, 'global', 'pg_control'), 10), 'Postgres stopped on an internal error while starting'],
    ]
    await Promise.all(
      cases.map(async ([what, damage, words]) => {
        const home = await makeHome()
        const dataDir = join(home, 'pgdata')
        damage(dataDir)
        const error = failure(await runCli(list, {env: {SYNTHEX_HOME: home}}))
        expect(error.code, what).toBe('DATABASE_UNAVAILABLE')
        expect(error.message, what).toContain(`Cannot open the embedded database at ${dataDir}: ${words}`)
        expect(error.hint, what).toContain('restore it from a backup, or move it away to start afresh')
      }),
    )
  })
})

describeOnServer('a server database with a full local disk [server]', () => {
  let disk: Tmpfs
  let url = ''
  let drop: () => Promise<void> = async () => {}

  beforeAll(async () => {
    disk = mountTmpfs(8)
    const server = await createServerDatabase({migrated: true})
    url = server.url
    drop = server.drop
  })

  afterAll(async () => {
    disk?.unmount()
    await drop()
  })

  it('still reads: nothing of a server command is written to $SYNTHEX_HOME', async () => {
    disk.fill()
    const result = await runCli(list, {env: {DATABASE_URL: url, SYNTHEX_HOME: join(disk.path, 'home')}})
    expect(result.code, result.stderr).toBe(0)
    expect(parseJson<{tenants: unknown[]}>(result).tenants).toEqual([])
  })
})
