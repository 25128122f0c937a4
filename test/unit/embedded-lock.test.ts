import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {DatabaseLockedError} from '../../src/db/database-errors.js'
import {acquireEmbeddedLock, readLockHolder} from '../../src/db/embedded-lock.js'

const dataDir = () => join(mkdtempSync(join(tmpdir(), 'synthex-lock-')), 'pgdata')

/** The pid of a process that has exited, as a crashed holder leaves behind. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
  return Number(child.stdout.toString())
}

describe('embedded database lock', () => {
  it('records its holder next to the data directory and removes itself on release', async () => {
    const dir = dataDir()
    const lock = await acquireEmbeddedLock(dir, {command: 'tenant tenants list', timeoutMs: 100})
    expect(readLockHolder(dir)).toMatchObject({command: 'tenant tenants list', hostname: hostname(), pid: process.pid})
    expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8')).pid).toBe(process.pid)
    lock.release()
    expect(existsSync(`${dir}.lock`)).toBe(false)
  })

  it('makes a second taker wait, then fail naming the holder', async () => {
    const dir = dataDir()
    const first = await acquireEmbeddedLock(dir, {command: 'batch tenants create', timeoutMs: 100})
    const waits: unknown[] = []
    const started = Date.now()
    const error = await acquireEmbeddedLock(dir, {command: 'tenant tenants list', onWait: (holder) => waits.push(holder), pollMs: 20, timeoutMs: 300}).catch((error_: unknown) => error_)
    const waited = Date.now() - started
    expect(error).toBeInstanceOf(DatabaseLockedError)
    expect((error as Error).message).toContain(`process ${process.pid}`)
    expect((error as Error).message).toContain('synthex batch tenants create')
    expect(waited).toBeGreaterThanOrEqual(280)
    expect(waits).toHaveLength(1)
    first.release()
  })

  it('is taken as soon as the holder lets go', async () => {
    const dir = dataDir()
    const first = await acquireEmbeddedLock(dir, {command: 'a', timeoutMs: 100})
    setTimeout(() => first.release(), 150)
    const second = await acquireEmbeddedLock(dir, {command: 'b', pollMs: 10, timeoutMs: 5000})
    expect(readLockHolder(dir)?.command).toBe('b')
    second.release()
  })

  it('breaks a lock whose holder died without releasing it', async () => {
    const dir = dataDir()
    writeFileSync(`${dir}.lock`, JSON.stringify({command: 'killed', hostname: hostname(), pid: deadPid(), startedAt: new Date().toISOString(), token: 'stale'}))
    const lock = await acquireEmbeddedLock(dir, {command: 'after the crash', timeoutMs: 100})
    expect(readLockHolder(dir)?.command).toBe('after the crash')
    lock.release()
  })

  it('breaks a lock left by an earlier process that had the same pid (a restarted container)', async () => {
    const dir = dataDir()
    writeFileSync(`${dir}.lock`, JSON.stringify({command: 'before the restart', hostname: hostname(), pid: process.pid, startedAt: '2020-01-01T00:00:00.000Z', token: 'old'}))
    const lock = await acquireEmbeddedLock(dir, {command: 'after the restart', timeoutMs: 100})
    expect(readLockHolder(dir)?.command).toBe('after the restart')
    lock.release()
  })

  it('lets exactly one of many concurrent takers hold it at a time', async () => {
    const dir = dataDir()
    let holders = 0
    let most = 0
    await Promise.all(
      Array.from({length: 8}, async (_, index) => {
        const lock = await acquireEmbeddedLock(dir, {command: `taker ${index}`, pollMs: 5, timeoutMs: 10_000})
        holders++
        most = Math.max(most, holders)
        await new Promise((resolve) => setTimeout(resolve, 10))
        holders--
        lock.release()
      }),
    )
    expect(most).toBe(1)
  })
})
