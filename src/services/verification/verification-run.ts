import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'

import {sql} from 'kysely'

import type {ProviderEnvironment} from '../../config/environment.js'
import type {NetworkSettings} from '../../config/settings.js'
import {unseal} from '../../crypto/envelope.js'
import type {Keyring} from '../../crypto/keyring.js'
import type {CredentialService, Db, VerificationOutcome} from '../../db/schema.js'
import {ConflictError, NotFoundError} from '../../errors/input-errors.js'
import {LeakyBuckets} from '../../net/leaky-bucket.js'
import {credentialAad, describeCredential} from '../credentials/credentials.js'
import {type Audit, recordEvents} from '../events/events.js'
import type {Workspace} from '../workspaces/workspaces.js'
import {providerMessage} from '../../net/provider-message.js'
import {type RecordedVerification, VERIFICATION_OUTCOMES, type VerificationResult, type VerificationTarget} from './verification-result.js'
import {pruneVerifications, recordVerifications} from './verification-store.js'
import {type Verifier, verifierFor} from './verifiers.js'

/**
 * `credentials verify`: every active credential of a tenant, or of the fleet (`all`), checked
 * with its provider, a bounded number at a time and within the providers' limits, the
 * answers stored in batches as they come.
 *
 * - Credentials are read a keyset page at a time and each value is opened only when its
 *   request is about to go, then dropped: memory holds a page of rows (sealed) and the
 *   requests in flight, whatever the size of the fleet.
 * - Per shop, Shopify's REST bucket (40, leaking 2 a second) is kept on this side
 *   (src/net/leaky-bucket.ts), so the run itself never overflows it; a 429 (Retry-After)
 *   puts the credential back in the queue after the wait, holding its shop meanwhile, up to
 *   `maxAttempts` times, then it is recorded as throttled.
 * - Every run is a verification_runs row; the answers carry its id. A fleet run that stops
 *   (interrupted, killed, the database gone) is resumed by the next one of the same scope:
 *   only the credentials without an answer of that run are verified.
 */

/** Shopify's REST Admin API bucket per shop: 40 requests, leaking 2 a second. */
export const SHOPIFY_BUCKET = {capacity: 40, leakPerSecond: 2} as const
/**
 * What the runner lets itself fill of a shop's bucket: two below Shopify's 40, so that a
 * request that reaches Shopify sooner than one sent before it (the network reorders) cannot
 * overflow it.
 */
const BUCKET_HEADROOM = 2
/** Requests a Shopify verification makes (shop.json, access_scopes.json). */
const SHOPIFY_REQUESTS = 2

export interface VerificationScope {
  readonly service?: CredentialService
  /** One tenant (in `workspace`), or the fleet when undefined. */
  readonly tenantId?: string
  /** The workspace; every workspace when undefined (fleet runs only). */
  readonly workspace?: Workspace
}

export interface VerificationProgress {
  readonly byOutcome: Readonly<Record<VerificationOutcome, number>>
  /** Verified by this invocation (what the progress line counts). */
  readonly read: number
  /** Put back in the queue after a 429. */
  readonly retried: number
  /** Left to verify when this invocation started. */
  readonly total: number
}

export interface RunOptions {
  readonly audit: Audit
  readonly concurrency: number
  readonly endpoints: ProviderEnvironment
  readonly keyring: Keyring
  /** Attempts of a throttled credential before it is recorded as throttled (default 3). */
  readonly maxAttempts?: number
  readonly network: NetworkSettings
  readonly onProgress?: (progress: VerificationProgress) => void
  /** Start a new fleet run even if the last one of the scope did not finish. */
  readonly restart?: boolean
  /** Scheduled fleet runs: do nothing (VerificationNotDue) when a run of the scope started within this many ms. */
  readonly dueAfterMs?: number
  /** Aborted to stop: nothing new starts, requests in flight are abandoned, what was answered is stored. */
  readonly signal?: AbortSignal
  readonly timeoutMs: number
  /** For tests and the verifier of another service. */
  readonly verifier?: (service: VerificationTarget['service']) => Promise<Verifier>
  /** Results per write (default 100) and the longest a result waits to be written (default 1 s). */
  readonly flushEvery?: number
  readonly flushMs?: number
  readonly pageSize?: number
}

/** A credential that is not valid, as reports show it. */
export interface VerificationFailure {
  readonly httpStatus: null | number
  readonly label: string
  readonly latencyMs: number
  readonly message: null | string
  readonly outcome: VerificationOutcome
  readonly reason: string
  readonly scopesMissing: string[]
  readonly service: string
  readonly tenantId: string
  readonly verifiedAt: Date
  readonly workspace: string
}

export interface VerificationRunResult {
  /** Verified by earlier invocations of a resumed run. */
  readonly alreadyVerified: number
  /** The whole run's answers, by outcome (a resumed run's earlier ones included). */
  readonly counts: Record<VerificationOutcome, number>
  readonly durationMs: number
  /** Credentials not valid, the first MAX_FAILURES of them by tenant. */
  readonly failures: VerificationFailure[]
  readonly failuresTruncated: boolean
  readonly interrupted: boolean
  readonly resumed: boolean
  readonly runId: string
  /** Active credentials in the run's scope when it started. */
  readonly total: number
  /** Verified by this invocation. */
  readonly verified: number
}

export const MAX_FAILURES = 1000
/** The longest Retry-After a run waits out before asking again. */
const MAX_RETRY_AFTER_MS = 60_000

interface Row {
  readonly ciphertext: string
  readonly gmc_merchant_id: null | string
  readonly id: string
  readonly label: string
  readonly service: CredentialService
  readonly shopify_shop: null | string
  readonly tenant_id: string
  readonly tenant_key: string
  readonly workspace_id: string
}

interface Item {
  attempts: number
  /** Its shop's bucket already holds its requests. */
  booked: boolean
  readyAt: number
  readonly row: Row
}

/** What a run's scope is called in verification_runs: the same flags name the same scope. */
export function scopeKey(scope: VerificationScope, tenantUuid?: string): string {
  const where = tenantUuid ? `tenant=${tenantUuid}` : `workspace=${scope.workspace?.id ?? '*'}`
  return `${where};service=${scope.service ?? '*'}`
}

export async function runVerification(db: Db, scope: VerificationScope, options: RunOptions): Promise<VerificationRunResult> {
  const started = performance.now()
  const tenantUuid = scope.tenantId === undefined ? undefined : await findTenant(db, scope)
  const key = scopeKey(scope, tenantUuid)
  const select = (runId: null | string) => selection(db, scope, tenantUuid, runId)

  // A fleet run picks up the last run of its scope if that one did not finish; a run of one
  // tenant, or --restart, starts afresh. Either way it holds the run's lease while it works.
  const {claimant, resumed, runId, total} = await claimRun(db, key, await countOf(select(null)), {dueAfterMs: tenantUuid ? undefined : options.dueAfterMs, resume: !tenantUuid && !options.restart})
  const left = resumed ? await countOf(select(runId)) : total
  // A renewal that finds the lease another's stops the run: two processes must never verify
  // the same credentials (nor fill the same shops' buckets) at once. A renewal that fails
  // (the database away for a moment) is tried again at the next tick, within the lease.
  const lost = new AbortController()
  const lease = setInterval(() => {
    renewLease(db, runId, claimant)
      .then((held) => {
        if (!held) lost.abort()
      })
      .catch(() => {})
  }, LEASE_RENEW_MS)
  let outcome: {verified: number}
  try {
    outcome = await verifyAll(db, select, runId, left, {...options, signal: options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal})
  } finally {
    clearInterval(lease)
  }

  if (lost.signal.aborted) throw new LeaseLost()

  const counts = await runCounts(db, runId)
  const alreadyVerified = Math.max(0, Object.values(counts).reduce((sum, n) => sum + n, 0) - outcome.verified)
  const failures = await runFailures(db, runId)
  const interrupted = options.signal?.aborted ?? false
  if (!interrupted) {
    const summary = {counts, total}
    await db.transaction().execute(async (trx) => {
      const finished = await trx
        .updateTable('verification_runs')
        .set({claimed_until: null, finished_at: new Date(), summary: JSON.stringify(summary)})
        .where('id', '=', runId)
        .where('claimed_by', '=', claimant)
        .executeTakeFirst()
      if (Number(finished.numUpdatedRows) === 0) throw new LeaseLost()
      await recordEvents(trx, options.audit, [
        {aggregateId: runId, aggregateType: 'verification_run', data: {counts, resumed, scope: key, total}, type: 'credentials.verified', workspaceId: scope.workspace?.id ?? null},
      ])
    })
    // Fleet runs prune; a run of one tenant should not pay for a pass over the history.
    if (!tenantUuid) await pruneVerifications(db, new Date())
  } else {
    // Let the next run resume at once rather than wait for the lease to expire.
    await db.updateTable('verification_runs').set({claimed_until: null}).where('id', '=', runId).where('claimed_by', '=', claimant).execute()
  }

  return {
    alreadyVerified,
    counts,
    durationMs: performance.now() - started,
    failures: failures.slice(0, MAX_FAILURES),
    failuresTruncated: failures.length > MAX_FAILURES,
    interrupted,
    resumed,
    runId,
    total,
    verified: outcome.verified,
  }
}

/** A run's lease: renewed every 15 s while it works, so one that died is resumed within a minute. */
const LEASE_MS = 60_000
const LEASE_RENEW_MS = 15_000
/** Who holds a lease: the process, for the message another one gets, and a token of this claim. */
const newClaimant = (): string => `${hostname()} pid ${process.pid} claim ${randomUUID().slice(0, 8)}`

/** A scheduled run's scope was verified within its period (verification-schedule.ts): nothing to do. */
export class VerificationNotDue extends Error {}

/** This run's lease was taken over (it could not renew it in time): it stopped. */
export class LeaseLost extends ConflictError {
  constructor() {
    super('This verification run stopped: it could not renew its lease in time and another process took the run over.', 'The answers it wrote are kept; the other process goes on with the rest.')
  }
}

/**
 * Claims the run of a scope: resumes the unfinished one when `resume` (unless another
 * process holds its lease), or closes it as abandoned and starts a new one. At most one
 * unfinished run per scope (verification_runs_one_open), so two processes starting at once
 * cannot both start one: the second finds the first's lease.
 */
async function claimRun(db: Db, scope: string, total: number, options: {dueAfterMs?: number; resume: boolean}): Promise<{claimant: string; resumed: boolean; runId: string; total: number}> {
  return db.transaction().execute(async (trx) => {
    const open = await trx
      .selectFrom('verification_runs')
      .select(['id', 'claimed_by', 'started_at', 'total', sql<boolean>`claimed_until is not null and claimed_until > now()`.as('held')])
      .where('scope', '=', scope)
      .where('finished_at', 'is', null)
      .forUpdate()
      .executeTakeFirst()
    if (open?.held) {
      throw new ConflictError(
        `A verification of the same credentials is in progress (${open.claimed_by ?? 'another process'}, started ${open.started_at.toISOString()}).`,
        'Wait for it to finish; should it stop, the next run resumes where it stopped.',
        {runId: open.id},
      )
    }

    const claimant = newClaimant()
    const lease = {claimed_by: claimant, claimed_until: sql<Date>`now() + make_interval(secs => ${LEASE_MS / 1000})`}
    if (open && options.resume) {
      await trx.updateTable('verification_runs').set(lease).where('id', '=', open.id).execute()
      return {claimant, resumed: true, runId: open.id, total: open.total}
    }

    if (!open && options.dueAfterMs !== undefined) {
      // Decided here, under the same lock as the claim: a run that finished since the caller
      // looked is seen, and the fleet is not verified twice in one period.
      const recent = await trx
        .selectFrom('verification_runs')
        .select('id')
        .where('scope', '=', scope)
        .where('started_at', '>', sql<Date>`now() - make_interval(secs => ${options.dueAfterMs / 1000})`)
        .executeTakeFirst()
      if (recent) throw new VerificationNotDue()
    }

    if (open) await trx.updateTable('verification_runs').set({finished_at: new Date(), summary: JSON.stringify({abandoned: true})}).where('id', '=', open.id).execute()
    // Two processes finding no open run at once: the unique index lets one insert, and the
    // other's insert fails here, inside its transaction, as a conflict.
    const inserted = await trx
      .insertInto('verification_runs')
      .values({...lease, scope, total})
      .onConflict((oc) => oc.column('scope').where('finished_at', 'is', null).doNothing())
      .returning('id')
      .executeTakeFirst()
    if (!inserted) throw new ConflictError('A verification of the same credentials has just started in another process.', 'Wait for it to finish; should it stop, the next run resumes where it stopped.')
    return {claimant, resumed: false, runId: inserted.id, total}
  })
}

/** Extends the lease while this claim holds it; false when another process took the run over. */
async function renewLease(db: Db, runId: string, claimant: string): Promise<boolean> {
  const renewed = await db
    .updateTable('verification_runs')
    .set({claimed_until: sql<Date>`now() + make_interval(secs => ${LEASE_MS / 1000})`})
    .where('id', '=', runId)
    .where('claimed_by', '=', claimant)
    .where('finished_at', 'is', null)
    .executeTakeFirst()
  return Number(renewed.numUpdatedRows) > 0
}

async function findTenant(db: Db, scope: VerificationScope): Promise<string> {
  const workspace = scope.workspace
  if (!workspace) throw new Error('verifying one tenant needs its workspace')
  const tenant = await db.selectFrom('tenants').select('id').where('workspace_id', '=', workspace.id).where('tenant_id', '=', scope.tenantId ?? '').executeTakeFirst()
  if (!tenant) {
    throw new NotFoundError(`Tenant "${scope.tenantId}" does not exist in workspace "${workspace.slug}".`, 'See `synthex tenant tenants list`.', {tenantId: scope.tenantId, workspace: workspace.slug})
  }

  return tenant.id
}

/** The active credentials of the scope (not rotated, not revoked), without those `runId` already answered. */
function selection(db: Db, scope: VerificationScope, tenantUuid: string | undefined, runId: null | string) {
  let select = db
    .selectFrom('credentials')
    .innerJoin('tenants', 'tenants.id', 'credentials.tenant_id')
    .where('credentials.rotated_at', 'is', null)
    .where('credentials.revoked_at', 'is', null)
  if (tenantUuid) select = select.where('credentials.tenant_id', '=', tenantUuid)
  else if (scope.workspace) select = select.where('tenants.workspace_id', '=', scope.workspace.id)
  if (scope.service) select = select.where('credentials.service', '=', scope.service)
  if (runId) {
    select = select.where(({exists, not, selectFrom}) =>
      not(exists(selectFrom('credential_verifications as v').select(sql`1`.as('one')).whereRef('v.credential_id', '=', 'credentials.id').where('v.run_id', '=', runId))),
    )
  }

  return select
}

type Selection = ReturnType<typeof selection>

async function countOf(select: Selection): Promise<number> {
  const row = await select.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

async function page(select: Selection, after: string | undefined, limit: number): Promise<Row[]> {
  let query = select.select([
    'credentials.id',
    'credentials.ciphertext',
    'credentials.label',
    'credentials.service',
    'credentials.tenant_id',
    'tenants.tenant_id as tenant_key',
    'tenants.workspace_id',
    'tenants.shopify_shop',
    'tenants.gmc_merchant_id',
  ])
  if (after !== undefined) query = query.where('credentials.id', '>', after)
  return query.orderBy('credentials.id').limit(limit).execute()
}

async function runCounts(db: Db, runId: string): Promise<Record<VerificationOutcome, number>> {
  const rows = await db.selectFrom('credential_verifications').select(['outcome', (eb) => eb.fn.countAll<number>().as('n')]).where('run_id', '=', runId).groupBy('outcome').execute()
  const counts = Object.fromEntries(VERIFICATION_OUTCOMES.map((outcome) => [outcome, 0])) as Record<VerificationOutcome, number>
  for (const row of rows) counts[row.outcome] = Number(row.n)
  return counts
}

async function runFailures(db: Db, runId: string): Promise<VerificationFailure[]> {
  const rows = await db
    .selectFrom('credential_verifications as v')
    .innerJoin('credentials', 'credentials.id', 'v.credential_id')
    .innerJoin('tenants', 'tenants.id', 'v.tenant_id')
    .innerJoin('workspaces', 'workspaces.id', 'tenants.workspace_id')
    .select([
      'tenants.tenant_id as tenant_key',
      'workspaces.slug',
      'v.service',
      'credentials.label',
      'v.outcome',
      'v.reason',
      'v.http_status',
      'v.message',
      'v.latency_ms',
      'v.scopes_missing',
      'v.verified_at',
    ])
    .where('v.run_id', '=', runId)
    .where('v.outcome', '<>', 'valid')
    .orderBy('workspaces.slug')
    .orderBy('tenants.tenant_id')
    .orderBy('v.service')
    .orderBy('credentials.label')
    .limit(MAX_FAILURES + 1)
    .execute()
  return rows.map((row) => ({
    httpStatus: row.http_status,
    label: row.label,
    latencyMs: row.latency_ms,
    message: row.message,
    outcome: row.outcome,
    reason: row.reason,
    scopesMissing: row.scopes_missing,
    service: row.service,
    tenantId: row.tenant_key,
    verifiedAt: row.verified_at,
    workspace: row.slug,
  }))
}

/** The scheduler: pages in, `concurrency` workers, per-shop buckets, re-queued 429s, batched writes. */
async function verifyAll(db: Db, select: (runId: null | string) => Selection, runId: string, total: number, options: RunOptions): Promise<{verified: number}> {
  const {concurrency, signal} = options
  const maxAttempts = options.maxAttempts ?? 3
  const flushEvery = options.flushEvery ?? 100
  const pageSize = options.pageSize ?? 500
  const buckets = new LeakyBuckets({capacity: SHOPIFY_BUCKET.capacity - BUCKET_HEADROOM, leakPerSecond: SHOPIFY_BUCKET.leakPerSecond})
  /** Shops that answered 429, until when: credentials of theirs booked before wait too. */
  const holds = new Map<string, number>()
  const verifiers = new Map<string, Promise<Verifier>>()
  const verifierOf = (service: VerificationTarget['service']): Promise<Verifier> => {
    let found = verifiers.get(service)
    if (!found) verifiers.set(service, (found = (options.verifier ?? verifierFor)(service)))
    return found
  }

  const byOutcome = Object.fromEntries(VERIFICATION_OUTCOMES.map((outcome) => [outcome, 0])) as Record<VerificationOutcome, number>
  let verified = 0
  let retried = 0
  /** A write that failed (the database went away): the run stops and reports it. */
  let failure: unknown

  // Pages: the answered credentials of this run are left out by the query, and keyset
  // paging on the id never reads one twice.
  const source = select(runId)
  let queue: Row[] = []
  let queued = 0
  let after: string | undefined
  let exhausted = false
  // The next page is read while the current one is half done, so workers never wait for it.
  let upcoming: Promise<Row[]> | undefined
  const prefetch = (): void => {
    if (exhausted || upcoming) return
    upcoming = page(source, after, pageSize).then((rows) => {
      after = rows.at(-1)?.id ?? after
      if (rows.length < pageSize) exhausted = true
      return rows
    })
  }

  // Waiting for a time (a shop's turn, a Retry-After) or for a change (a credential re-queued, one finished).
  const delayed: Item[] = []
  const maxDelayed = Math.max(pageSize, concurrency * 4)
  let active = 0
  let waiters: Array<() => void> = []
  const notify = (): void => {
    const woken = waiters
    waiters = []
    for (const wake of woken) wake()
  }

  signal?.addEventListener('abort', notify, {once: true})
  const waitFor = async (ms: number | undefined): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, Math.max(1, ms))
      function done(): void {
        clearTimeout(timer)
        resolve()
      }

      waiters.push(done)
    })
  const delay = (item: Item): void => {
    const at = delayed.findIndex((other) => other.readyAt > item.readyAt)
    delayed.splice(at === -1 ? delayed.length : at, 0, item)
    notify()
  }

  // A Shopify credential's requests are booked in its shop's bucket before it goes; false: it must wait (delayed).
  const book = (item: Item, now: number): boolean => {
    if (item.booked || item.row.service !== 'shopify' || !item.row.shopify_shop) return true
    const at = buckets.reserve(item.row.shopify_shop.toLowerCase(), SHOPIFY_REQUESTS)
    item.booked = true
    if (at <= now) return true
    item.readyAt = at
    delay(item)
    return false
  }

  const next = async (): Promise<Item | undefined> => {
    for (;;) {
      if (signal?.aborted || failure) return undefined
      const now = Date.now()
      const first = delayed[0]
      if (first && first.readyAt <= now) {
        delayed.shift()
        // Booked before its shop answered 429: it waits out the shop's Retry-After too.
        const hold = first.row.service === 'shopify' && first.row.shopify_shop ? holds.get(first.row.shopify_shop.toLowerCase()) : undefined
        if (first.booked && hold !== undefined && hold > now) {
          first.readyAt = hold
          delay(first)
          continue
        }

        if (book(first, now)) return first
        continue
      }

      if (queued * 2 >= queue.length) prefetch()
      if (queued < queue.length && delayed.length < maxDelayed) {
        const row = queue[queued++] as Row
        const item: Item = {attempts: 0, booked: false, readyAt: now, row}
        if (book(item, now)) return item
        continue
      }

      if (queued >= queue.length && upcoming) {
        const reading = upcoming
        const rows = await reading
        // Another worker may have taken this page already.
        if (upcoming === reading) {
          upcoming = undefined
          queue = rows
          queued = 0
        }

        continue
      }

      if (!first && active === 0 && queued >= queue.length && exhausted) return undefined
      await waitFor(first ? first.readyAt - now : undefined)
    }
  }

  // Writes: a batch of results per transaction, in order, one at a time.
  let buffer: RecordedVerification[] = []
  let writing: Promise<void> = Promise.resolve()
  const flush = (): Promise<void> => {
    if (buffer.length === 0) return writing
    const batch = buffer
    buffer = []
    writing = writing.then(async () => {
      if (failure) return
      try {
        await recordVerifications(db, runId, batch)
      } catch (error) {
        failure = error
        notify()
      }
    })
    return writing
  }

  const timer = setInterval(() => void flush(), options.flushMs ?? 1000)
  const verify = async (item: Item): Promise<void> => {
    const {row} = item
    const result = await attempt(row, verifierOf, options)
    // An interrupted run keeps what was answered before the interruption, not the abandoned requests.
    if (signal?.aborted) return
    // A provider asking to wait longer than a minute is recorded throttled now: one shop must
    // not hold a fleet run (or the schedule) for hours.
    if (result.outcome === 'throttled' && item.attempts + 1 < maxAttempts && (result.retryAfterMs ?? 0) <= MAX_RETRY_AFTER_MS) {
      item.attempts++
      item.booked = false
      item.readyAt = Date.now() + (result.retryAfterMs ?? 1000)
      if (row.service === 'shopify' && row.shopify_shop) {
        const shop = row.shopify_shop.toLowerCase()
        buckets.holdUntil(shop, item.readyAt)
        holds.set(shop, Math.max(holds.get(shop) ?? 0, item.readyAt))
      }
      retried++
      delay(item)
      return
    }

    buffer.push({...result, credentialId: row.id, service: row.service, tenantUuid: row.tenant_id})
    byOutcome[result.outcome]++
    verified++
    options.onProgress?.({byOutcome, read: verified, retried, total})
    if (buffer.length >= flushEvery) void flush()
  }

  const worker = async (): Promise<void> => {
    for (;;) {
      const item = await next()
      if (!item) return
      active++
      try {
        await verify(item)
      } finally {
        active--
        notify()
      }
    }
  }

  try {
    await Promise.all(Array.from({length: Math.max(1, concurrency)}, () => worker()))
  } finally {
    clearInterval(timer)
    signal?.removeEventListener('abort', notify)
    await flush()
  }

  if (failure) throw failure
  return {verified}
}

/** One verification of one credential: its value opened just for the call, and dropped after. */
async function attempt(row: Row, verifierOf: (service: VerificationTarget['service']) => Promise<Verifier>, options: RunOptions): Promise<VerificationResult> {
  const service = row.service as VerificationTarget['service']
  const started = performance.now()
  let value: string
  try {
    value = unseal(options.keyring, row.ciphertext, credentialAad(row), describeCredential({label: row.label, service: row.service, tenantId: row.tenant_key}))
  } catch (error) {
    return failed(service, 'unreadable', error instanceof Error ? error.message : 'the value does not open', started, [], options)
  }

  const target: VerificationTarget = {
    credentialId: row.id,
    gmcMerchantId: row.gmc_merchant_id,
    label: row.label,
    service,
    shopifyShop: row.shopify_shop,
    tenantId: row.tenant_key,
    tenantUuid: row.tenant_id,
    value,
    workspaceId: row.workspace_id,
  }
  try {
    return await (await verifierOf(service))(target, {endpoints: options.endpoints, network: options.network, signal: options.signal, timeoutMs: options.timeoutMs})
  } catch (error) {
    // A verifier must answer, not throw; one that does is synthex's fault, said as such.
    return failed(service, 'internal', `The ${service} verifier failed: ${error instanceof Error ? error.message : String(error)}`, started, [value], options)
  }
}

/** A result for what went wrong on this side (the value does not open, the verifier threw). */
function failed(service: VerificationTarget['service'], reason: string, message: string, started: number, secrets: readonly string[], options: RunOptions): VerificationResult {
  return {
    httpStatus: null,
    latencyMs: performance.now() - started,
    message: providerMessage(message, secrets),
    outcome: 'error',
    reason,
    scopesGranted: null,
    scopesMissing: [],
    scopesRequired: service === 'shopify' ? options.endpoints.shopifyScopes : options.endpoints.googleScopes,
  }
}
