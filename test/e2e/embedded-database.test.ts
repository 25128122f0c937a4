import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {acquireEmbeddedLock, readLockHolder} from '../../src/db/embedded-lock.js'
import {makeHome, parseJson, runCli, startCli, startOnTerminal} from '../helpers/cli.js'
import {waitFor} from '../helpers/wait.js'

const create = (id: string) => ['tenant', 'tenants', 'create', '--tenant-id', id, '--name', `Tenant ${id}`, '--type', 'shopify', '--shopify-shop', `${id}.myshopify.com`]

describe('the embedded database', () => {
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

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`exits 130 on ${signal} at once, even while waiting for the database, after cleaning up`, async () => {
      const home = await makeHome()
      const lock = await acquireEmbeddedLock(join(home, 'pgdata'), {command: 'holder', timeoutMs: 1000})
      try {
        const waiting = startCli(['tenant', 'tenants', 'list'], {env: {SYNTHEX_HOME: home, SYNTHEX_LOCK_TIMEOUT: '60s'}})
        await waitFor(() => (waiting.output().stderr.includes('Waiting for the embedded database') ? true : undefined), 30_000, 'the wait notice')
        const killedAt = Date.now()
        waiting.child.kill(signal)
        const result = await waiting.done
        expect(result.code).toBe(130)
        // It stops waiting for the lock: Ctrl-C is not followed by seconds of nothing.
        expect(Date.now() - killedAt).toBeLessThan(3000)
        expect(result.stderr).toContain(`Interrupted by ${signal}`)
        expect(readLockHolder(join(home, 'pgdata'))?.pid).toBe(process.pid)
      } finally {
        lock.release()
      }
    })
  }
})
