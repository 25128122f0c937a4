import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {acquireEmbeddedLock, readLockHolder} from '../../src/db/embedded-lock.js'
import {makeHome, parseJson, runCli, startCli, startOnTerminal} from '../helpers/cli.js'
import {waitFor} from '../helpers/wait.js'

const create = (id: string) => ['tenant', 'tenants', 'create', '--tenant-id', id, '--name', `Tenant ${id}`, '--type', 'shopify', '--shopify-shop', `${id}.myshopify.com`]

describe('the embedded database', () => {
  it('is created and migrated on first use, then reused', async () => {
    const home = await makeHome({fresh: true})
    const first = await runCli(['tenant', 'tenants', 'list'], {env: {SYNTHEX_HOME: home}})
    expect(first.code).toBe(0)
    expect(first.stderr).toContain(`Creating the embedded database in ${join(home, 'pgdata')} (first run only)`)
    expect(existsSync(join(home, 'pgdata', 'PG_VERSION'))).toBe(true)
    expect(existsSync(join(home, 'pgdata.lock'))).toBe(false)

    const second = await runCli(['db', 'status', '--json'], {env: {SYNTHEX_HOME: home}})
    expect(second.stderr).not.toContain('Creating')
    expect(parseJson<{backend: string; pending: number}>(second)).toMatchObject({backend: 'embedded', pending: 0})
  })

  it('makes a second process wait for the first, then fail cleanly naming it', async () => {
    const home = await makeHome()
    const lock = await acquireEmbeddedLock(join(home, 'pgdata'), {command: 'batch tenants create', timeoutMs: 1000})
    try {
      const started = Date.now()
      const result = await runCli(['tenant', 'tenants', 'list', '--json'], {env: {SYNTHEX_HOME: home, SYNTHEX_LOCK_TIMEOUT: '1500ms'}})
      const elapsed = Date.now() - started
      expect(result.code).toBe(1)
      expect(elapsed).toBeGreaterThanOrEqual(1500)
      const body = parseJson<{error: {code: string; message: string}}>(result)
      expect(body.error.code).toBe('DATABASE_LOCKED')
      expect(body.error.message).toContain(`in use by process ${process.pid}`)
      expect(body.error.message).toContain('synthex batch tenants create')
      expect(result.stderr).toContain('Waiting for the embedded database')
    } finally {
      lock.release()
    }
  })

  it('serialises real synthex processes: a prompt holding the database blocks the next one', async () => {
    const home = await makeHome()
    expect((await runCli(create('keep-me'), {env: {SYNTHEX_HOME: home}})).code).toBe(0)
    expect((await runCli(create('delete-me'), {env: {SYNTHEX_HOME: home}})).code).toBe(0)

    const deleting = startOnTerminal(['tenant', 'tenants', 'delete', 'delete-me'], {SYNTHEX_HOME: home})
    await waitFor(() => (deleting.output().includes('Type the tenant id to confirm') ? true : undefined), 30_000, 'the confirmation prompt')
    const holder = readLockHolder(join(home, 'pgdata'))
    expect(holder?.command).toBe('tenant tenants delete')

    const blocked = await runCli(['tenant', 'tenants', 'list'], {env: {SYNTHEX_HOME: home, SYNTHEX_LOCK_TIMEOUT: '1s'}})
    expect(blocked.code).toBe(1)
    expect(blocked.stderr).toContain(`in use by process ${holder?.pid}`)
    expect(blocked.stderr).toContain('(synthex tenant tenants delete,')

    deleting.child.stdin.write('delete-me\r')
    expect(await deleting.done).toBe(0)
    expect(deleting.output()).toContain('Deleted tenant delete-me')
    const listed = await runCli(['tenant', 'tenants', 'list', '--json'], {env: {SYNTHEX_HOME: home}})
    expect(parseJson<{tenants: Array<{tenantId: string}>}>(listed).tenants.map((tenant) => tenant.tenantId)).toEqual(['keep-me'])
  })

  it('does not delete on a terminal unless the tenant id is typed back', async () => {
    const home = await makeHome()
    expect((await runCli(create('precious'), {env: {SYNTHEX_HOME: home}})).code).toBe(0)
    const deleting = startOnTerminal(['tenant', 'tenants', 'delete', 'precious'], {SYNTHEX_HOME: home})
    await waitFor(() => (deleting.output().includes('Type the tenant id to confirm') ? true : undefined), 30_000, 'the prompt')
    deleting.child.stdin.write('yes\r')
    expect(await deleting.done).toBe(1)
    expect(deleting.output()).toContain('Not confirmed; nothing was deleted.')
    expect((await runCli(['tenant', 'tenants', 'get', 'precious'], {env: {SYNTHEX_HOME: home}})).code).toBe(0)
  })

  it('lets concurrent writers take turns: every one succeeds and nothing is lost', async () => {
    const home = await makeHome()
    const ids = ['c-1', 'c-2', 'c-3', 'c-4']
    const results = await Promise.all(ids.map((id) => runCli(create(id), {env: {SYNTHEX_HOME: home, SYNTHEX_LOCK_TIMEOUT: '60s'}})))
    expect(results.map((result) => result.code)).toEqual([0, 0, 0, 0])
    const listed = await runCli(['tenant', 'tenants', 'list', '--json'], {env: {SYNTHEX_HOME: home}})
    expect(parseJson<{tenants: Array<{tenantId: string}>}>(listed).tenants.map((tenant) => tenant.tenantId)).toEqual(ids)
  })

  it('recovers from a holder killed with SIGKILL: its lock is recognised as stale and the data is intact', async () => {
    const home = await makeHome()
    expect((await runCli(create('survivor'), {env: {SYNTHEX_HOME: home}})).code).toBe(0)
    const holding = startOnTerminal(['tenant', 'tenants', 'delete', 'survivor'], {SYNTHEX_HOME: home})
    await waitFor(() => (holding.output().includes('Type the tenant id to confirm') ? true : undefined), 30_000, 'the prompt')
    const holder = readLockHolder(join(home, 'pgdata'))
    expect(holder).toBeDefined()
    process.kill(holder?.pid as number, 'SIGKILL')
    await holding.done
    expect(existsSync(join(home, 'pgdata.lock'))).toBe(true)

    const started = Date.now()
    const after = await runCli(['tenant', 'tenants', 'get', 'survivor', '--json'], {env: {SYNTHEX_HOME: home, SYNTHEX_LOCK_TIMEOUT: '30s'}})
    expect(after.code).toBe(0)
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(parseJson<{tenantId: string}>(after).tenantId).toBe('survivor')
  })

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`exits 130 on ${signal}, after cleaning up`, async () => {
      const home = await makeHome()
      const lock = await acquireEmbeddedLock(join(home, 'pgdata'), {command: 'holder', timeoutMs: 1000})
      try {
        const waiting = startCli(['tenant', 'tenants', 'list'], {env: {SYNTHEX_HOME: home, SYNTHEX_LOCK_TIMEOUT: '60s'}})
        await waitFor(() => (waiting.output().stderr.includes('Waiting for the embedded database') ? true : undefined), 30_000, 'the wait notice')
        waiting.child.kill(signal)
        const result = await waiting.done
        expect(result.code).toBe(130)
        expect(result.stderr).toContain(`Interrupted by ${signal}`)
        expect(readLockHolder(join(home, 'pgdata'))?.pid).toBe(process.pid)
      } finally {
        lock.release()
      }
    })
  }
})
