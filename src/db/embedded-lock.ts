import {randomUUID} from 'node:crypto'
import {linkSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {dirname} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {storageErrorOf} from '../errors/storage-error.js'
import {DatabaseLockedError} from './database-errors.js'
import {makePrivateDirectory} from './private-home.js'

/** Who holds the embedded database; written into the lock file for the next process to read. */
export interface LockHolder {
  readonly command: string
  readonly hostname: string
  readonly pid: number
  /** The holder serves the database to other processes (`db start`, `serve`): connect to it. */
  readonly serving?: boolean
  readonly startedAt: string
  readonly token: string
}

export interface EmbeddedLock {
  readonly holder: LockHolder
  readonly path: string
  release(): void
}

export interface LockOptions {
  /** What this process is doing, shown to a process that has to wait (never its arguments). */
  readonly command: string
  /** Called once when the lock is busy and this process starts waiting. */
  readonly onWait?: (holder: LockHolder | undefined) => void
  readonly pollMs?: number
  /** Stops the wait (the command was interrupted): the lock is not taken, and the wait rejects at once. */
  readonly signal?: AbortSignal
  /** Recorded in the lock: this process will serve the database to others. */
  readonly serving?: boolean
  /**
   * Asked on each round of the wait: true stops waiting without the lock (acquireEmbeddedLock
   * resolves undefined), for a holder that serves the database and can be connected to.
   */
  readonly stopWaiting?: (holder: LockHolder | undefined) => boolean
  readonly timeoutMs: number
}

const BREAKER_STALE_MS = 10_000

/**
 * Takes the exclusive lock on an embedded database directory.
 *
 * PGlite is a single-user Postgres: two processes writing one data directory would corrupt
 * it. The lock is a file created atomically with `link(2)` (it appears complete with its
 * holder's details, or not at all) next to the directory. A lock whose holder died
 * (SIGKILL, power loss) is recognised because its process is gone on this host, and is
 * broken under a second, short-lived lock so that two waiters cannot both break it and
 * both go on.
 */
export async function acquireEmbeddedLock(dataDir: string, options: LockOptions & {stopWaiting?: undefined}): Promise<EmbeddedLock>
export async function acquireEmbeddedLock(dataDir: string, options: LockOptions): Promise<EmbeddedLock | undefined>
export async function acquireEmbeddedLock(dataDir: string, options: LockOptions): Promise<EmbeddedLock | undefined> {
  const path = `${dataDir}.lock`
  const holder: LockHolder = {
    command: options.command,
    hostname: hostname(),
    pid: process.pid,
    ...(options.serving ? {serving: true} : {}),
    startedAt: new Date().toISOString(),
    token: randomUUID(),
  }
  const pollMs = options.pollMs ?? 100
  const started = Date.now()
  let waiting = false
  let lastSeen: LockHolder | undefined

  makePrivateDirectory(dirname(path))
  for (;;) {
    if (tryCreate(path, holder)) return makeLock(path, holder)

    const current = readHolder(path)
    if (current === 'missing') continue
    if (current !== 'unreadable') {
      lastSeen = current
      if (isStale(current)) {
        breakStaleLock(path, current)
        continue
      }
    }

    if (options.stopWaiting?.(lastSeen)) return undefined
    const waited = Date.now() - started
    if (waited >= options.timeoutMs) throw lockedError(dataDir, path, lastSeen, waited)
    if (!waiting) {
      waiting = true
      options.onWait?.(lastSeen)
    }

    await sleep(Math.min(pollMs, Math.max(1, options.timeoutMs - waited)), undefined, {signal: options.signal})
  }
}

/** Reads who holds the lock on a directory, if anyone does. */
export function readLockHolder(dataDir: string): LockHolder | undefined {
  const current = readHolder(`${dataDir}.lock`)
  return typeof current === 'string' ? undefined : current
}

function tryCreate(path: string, holder: LockHolder): boolean {
  const staging = `${path}.${holder.token}`
  try {
    // Inside the try: on a full disk the file is created and its write fails; it must not stay.
    writeFileSync(staging, `${JSON.stringify(holder)}\n`, {mode: 0o600})
    linkSync(staging, path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    // Reported at the lock's own path, not at the staging file's random name.
    throw storageErrorOf(error, path) ?? error
  } finally {
    try {
      rmSync(staging, {force: true})
    } catch {
      // Not there, or the directory cannot be entered: the error above says so.
    }
  }
}

function readHolder(path: string): 'missing' | 'unreadable' | LockHolder {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw error
  }

  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>
    if (typeof parsed.pid === 'number' && typeof parsed.token === 'string') return parsed as LockHolder
  } catch {
    // fall through: a lock file not written by synthex
  }

  return 'unreadable'
}

/** Whether a process of this host is running (one of another user's counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** When this process started, to tell it from an earlier one that had the same pid. */
const PROCESS_STARTED = Date.now() - process.uptime() * 1000

/**
 * Only a holder on this host can be checked; one on another host is assumed alive. A holder
 * with our own pid is an earlier process (a container restarted with node as pid 1) when it
 * took the lock before this process started.
 */
function isStale(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false
  if (holder.pid === process.pid) return Date.parse(holder.startedAt) < PROCESS_STARTED - 1000
  return !isAlive(holder.pid)
}

function breakStaleLock(path: string, stale: LockHolder): void {
  const breaker = `${path}.break`
  try {
    mkdirSync(breaker, {mode: 0o700})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    // Someone else is breaking it. Their breaker can only be left behind by a crash in
    // the few statements below, so an old one is removed and the next round retries.
    try {
      if (Date.now() - statSync(breaker).mtimeMs > BREAKER_STALE_MS) rmSync(breaker, {force: true, recursive: true})
    } catch {
      // gone already
    }

    return
  }

  try {
    const current = readHolder(path)
    if (typeof current !== 'string' && current.token === stale.token) unlinkSync(path)
  } finally {
    rmSync(breaker, {force: true, recursive: true})
  }
}

function makeLock(path: string, holder: LockHolder): EmbeddedLock {
  let released = false
  const release = (): void => {
    if (released) return
    released = true
    process.removeListener('exit', release)
    const current = readHolder(path)
    if (typeof current !== 'string' && current.token === holder.token) rmSync(path, {force: true})
  }

  // Backstop for exits that skip the normal close (process.exit in a signal handler).
  process.on('exit', release)
  return {holder, path, release}
}

function lockedError(dataDir: string, path: string, holder: LockHolder | undefined, waitedMs: number): DatabaseLockedError {
  const seconds = `${Math.round(waitedMs / 100) / 10}s`
  const who = holder
    ? `process ${holder.pid} on ${holder.hostname} (synthex ${holder.command}, since ${holder.startedAt})`
    : 'another process'
  return new DatabaseLockedError(
    `The embedded database at ${dataDir} is in use by ${who}; gave up after waiting ${seconds}.`,
    {dataDir, holder: holder ? {command: holder.command, hostname: holder.hostname, pid: holder.pid, startedAt: holder.startedAt} : null, lockFile: path, waitedMs},
    `Retry when it has finished, or wait longer with SYNTHEX_LOCK_TIMEOUT (e.g. 60s). For jobs that run at the same time, run \`synthex db start\` first (commands then share the embedded database through it) or use a Postgres server (DATABASE_URL). If no such process exists, delete ${path}.`,
  )
}
