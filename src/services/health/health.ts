import {sql} from 'kysely'

import {unseal} from '../../crypto/envelope.js'
import type {Keyring} from '../../crypto/keyring.js'
import {pendingMigrations} from '../../db/migrations.js'
import type {Db} from '../../db/schema.js'
import type {NetworkPolicy} from '../../net/address-policy.js'
import {guardedConnect} from '../../net/guarded-connect.js'
import {policyOf} from '../../notifiers/network-options.js'
import {DEFAULT_EVENTS_URL} from '../../notifiers/pagerduty.js'
import {DEFAULT_SENDGRID_URL} from '../../notifiers/sendgrid.js'
import {webhookProblems} from '../webhooks/webhook-deliveries.js'
import {type ChannelProblem, type ChannelSpec, inspectChannels} from '../alerts/channels.js'
import {credentialAad, describeCredential} from '../credentials/credentials.js'
import {describeSpan} from '../credentials/credential-expiry.js'
import {recordHealthRun} from './health-run-record.js'
import {formatDuration} from '../../domain/durations.js'
import {repositoryFile} from '../../domain/repository.js'
import type {ChannelEnvironment, ProviderEnvironment} from '../../config/environment.js'

/**
 * `health check`: independent checks run at once, each under its own timeout, each healthy,
 * degraded or unhealthy with a reason and its duration; the overall status is the worst.
 * A check that cannot finish in time is unhealthy ("no answer within 5 s"), so a stopped or
 * unreachable database makes the probe fail fast instead of hanging the pipeline.
 */

export const HEALTH_STATUSES = ['healthy', 'degraded', 'unhealthy'] as const
export type HealthStatus = (typeof HEALTH_STATUSES)[number]

export interface CheckOutcome {
  readonly durationMs: number
  readonly name: string
  readonly reason: string
  readonly status: HealthStatus
  /** A figure for monitoring (nagios performance data, a Prometheus gauge), with its unit. */
  readonly value?: {readonly unit: 'ms' | 's' | ''; readonly value: number}
}

export interface HealthReport {
  readonly checks: readonly CheckOutcome[]
  readonly durationMs: number
  readonly startedAt: Date
  readonly status: HealthStatus
}

export interface HealthOptions {
  /** Seconds since the last `alerts check-now` run above which cron is considered stopped. */
  readonly cronMaxAgeMs: number
  readonly deep: boolean
  /** The channels the environment defines. */
  readonly channelEnvironment: ChannelEnvironment
  /** The provider APIs --deep probes (stand-ins for tests and proxies). */
  readonly providers?: Pick<ProviderEnvironment, 'googleApiUrl' | 'shopifyApiUrl'>
  readonly keyring: () => Keyring
  /** Database round trip above which the database is degraded. */
  readonly latencyThresholdMs: number
  readonly now?: () => Date
  /** Opens the database (may throw: that is the database check failing). */
  readonly open: () => Promise<Db>
  readonly timeoutMs: number
  /** Records the run, for the `health_failing` rule and the metrics (not on a dry look). */
  readonly record: boolean
  readonly workspaceId?: () => Promise<string | undefined>
}

export const DEFAULT_SHOPIFY_API_URL = 'https://admin.shopify.com'
export const DEFAULT_GOOGLE_API_URL = 'https://merchantapi.googleapis.com'
/** Expiring within this many days makes the credentials check degraded. */
const EXPIRING_DAYS = 7
/** A pending notification older than this is stuck (cron not delivering, a channel down for long). */
const STUCK_MS = 60 * 60_000
/** Channels named one by one in the deliveries check; the rest are counted. */
const MAX_CHANNELS_NAMED = 3
/** Failed deliveries count against health for this long. */
const FAILED_WINDOW_MS = 24 * 60 * 60_000
const DAY_MS = 86_400_000

const rank = (status: HealthStatus): number => HEALTH_STATUSES.indexOf(status)
export const worst = (statuses: readonly HealthStatus[]): HealthStatus => statuses.reduce<HealthStatus>((a, b) => (rank(b) > rank(a) ? b : a), 'healthy')

class CheckTimeout extends Error {}

/** How long recording a run may take. */
const RECORD_TIMEOUT_MS = 2000

/** `work`, or a CheckTimeout once `ms` have passed. */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new CheckTimeout()), Math.max(0, ms))))])
  } finally {
    clearTimeout(timer)
  }
}

type Check = () => Promise<Omit<CheckOutcome, 'durationMs' | 'name'>>

/**
 * Runs one check under the timeout; whatever it throws makes it unhealthy, with the reason.
 * A check of the database's contents starts (and is timed) once the database is open.
 */
async function run(name: string, check: Check, timeoutMs: number, database?: Promise<Db>): Promise<CheckOutcome> {
  if (database) {
    const ready = await database.then(
      () => true,
      () => false,
    )
    if (!ready) return {durationMs: 0, name, reason: 'not checked: the database is unreachable', status: 'unhealthy'}
  }

  const started = performance.now()
  try {
    const outcome = await within(check(), timeoutMs)
    return {durationMs: performance.now() - started, name, ...outcome}
  } catch (error) {
    const reason = error instanceof CheckTimeout ? `no answer within ${formatSeconds(timeoutMs)}` : firstLine(error)
    return {durationMs: performance.now() - started, name, reason, status: 'unhealthy'}
  }
}

export async function checkHealth(options: HealthOptions): Promise<HealthReport> {
  const now = options.now ?? (() => new Date())
  const startedAt = now()
  const started = performance.now()
  const opening = options.open()
  // Opening can take longer than a check (the first run creates the embedded database): its
  // own timeout is the database check's; an open that outlives it still fails the rest.
  const opened = within(opening, options.timeoutMs)
  opened.catch(() => {})
  // The other checks need the database; when it is down they say so rather than each timing out.
  const db = (): Promise<Db> => opening
  // The channels check and --deep's probes of their endpoints share one reading.
  const inspecting = opening.then(async (db) => inspectChannels(db, options.keyring, options.channelEnvironment))
  inspecting.catch(() => {})
  const checks: Array<[string, Check, Promise<Db>?]> = [
    ['database', () => checkDatabase(opening, options.latencyThresholdMs)],
    ['migrations', async () => checkMigrations(await db()), opened],
    ['encryption', async () => checkEncryption(await db(), options.keyring), opened],
    ['credentials', async () => checkCredentials(await db(), startedAt), opened],
    ['credential_verification', async () => checkVerification(await db()), opened],
    ['channels', async () => checkChannels(await inspecting), opened],
    ['deliveries', async () => checkDeliveries(await db(), startedAt), opened],
    ['webhooks', async () => checkWebhookDeliveries(await db(), startedAt), opened],
    ['cron', async () => checkCron(await db(), startedAt, options.cronMaxAgeMs), opened],
  ]
  const deadline = performance.now() + options.timeoutMs
  const runs = [Promise.all(checks.map(([name, check, after]) => run(name, check, options.timeoutMs, after)))]
  if (options.deep) {
    // Channel endpoints are known once the database has answered; their probes get what is
    // left of the timeout, so --deep still answers within it. A channel that cannot be read
    // is the channels check's to report.
    runs.push(
      within(
        opened.then(async () => inspecting),
        deadline - performance.now(),
      )
        .then(({channels}) => {
          const remainingMs = Math.max(1, deadline - performance.now())
          return Promise.all(endpointsOf(channels).map((endpoint) => run(`channel ${endpoint.name}`, () => checkReachable(endpoint.url, remainingMs, endpoint.policy), remainingMs)))
        })
        .catch(() => []),
      Promise.all([
        // The Admin API is per shop ({shop}); admin.shopify.com answers for Shopify as a whole.
        run('shopify api', () => checkReachable(new URL((options.providers?.shopifyApiUrl ?? DEFAULT_SHOPIFY_API_URL).replaceAll('{shop}', 'admin.shopify.com')), options.timeoutMs), options.timeoutMs),
        run('google api', () => checkReachable(new URL(options.providers?.googleApiUrl ?? DEFAULT_GOOGLE_API_URL), options.timeoutMs), options.timeoutMs),
      ]),
    )
  }

  const outcomes = (await Promise.all(runs)).flat()
  const report: HealthReport = {checks: outcomes, durationMs: performance.now() - started, startedAt, status: worst(outcomes.map((outcome) => outcome.status))}
  if (options.record) {
    // Recording is best effort, and brief: a database that is down or stalled is already what
    // the report says.
    await within(
      opened.then(async (db) => {
        const workspaceId = (await options.workspaceId?.().catch(() => undefined)) ?? null
        await recordHealthRun(db, report, workspaceId)
      }),
      RECORD_TIMEOUT_MS,
    ).catch(() => {})
  }

  return report
}

async function checkDatabase(opening: Promise<Db>, thresholdMs: number): ReturnType<Check> {
  const db = await opening
  const started = performance.now()
  await sql`select 1`.execute(db)
  const ms = performance.now() - started
  const value = {unit: 'ms' as const, value: round(ms)}
  return ms > thresholdMs
    ? {reason: `round trip ${round(ms)} ms, over ${thresholdMs} ms`, status: 'degraded', value}
    : {reason: `reachable, round trip ${round(ms)} ms`, status: 'healthy', value}
}

async function checkMigrations(db: Db): ReturnType<Check> {
  const pending = await pendingMigrations(db)
  return pending.length === 0
    ? {reason: 'up to date', status: 'healthy', value: {unit: '', value: 0}}
    : {reason: `${pending.length} pending (${pending.join(', ')}): run synthex db migrate`, status: 'unhealthy', value: {unit: '', value: pending.length}}
}

/** The key is there and opens a real credential (the newest), not just that a key is set. */
async function checkEncryption(db: Db, keyring: () => Keyring): ReturnType<Check> {
  const sample = await db
    .selectFrom('credentials')
    .innerJoin('tenants', 'tenants.id', 'credentials.tenant_id')
    .select(['credentials.ciphertext', 'credentials.label', 'credentials.service', 'credentials.tenant_id', 'tenants.tenant_id as tenant', 'tenants.workspace_id'])
    .where('credentials.rotated_at', 'is', null)
    .where('credentials.revoked_at', 'is', null)
    .orderBy('credentials.id', 'desc')
    .limit(1)
    .executeTakeFirst()
  const keys = keyring()
  if (!sample) return keys.active ? {reason: 'key present; no credential stored yet', status: 'healthy'} : {reason: 'no key configured; none needed until a credential is stored', status: 'healthy'}
  try {
    unseal(keys, sample.ciphertext, credentialAad(sample), describeCredential({label: sample.label, service: sample.service, tenantId: sample.tenant}))
  } catch (error) {
    return {reason: `cannot open a stored credential: ${firstLine(error)}`, status: 'unhealthy'}
  }

  return keys.active ? {reason: 'key present; opened a stored credential', status: 'healthy'} : {reason: 'opened a stored credential, but no active key is set to seal new ones (SYNTHEX_ENCRYPTION_KEY)', status: 'degraded'}
}

async function checkCredentials(db: Db, now: Date): ReturnType<Check> {
  const {rows} = await sql<{expired: number; expiring: number; next_ms: null | number}>`
    select count(*) filter (where expires_at <= ${now})::int as expired,
           count(*) filter (where expires_at > ${now} and expires_at <= ${new Date(now.getTime() + EXPIRING_DAYS * DAY_MS)})::int as expiring,
           extract(epoch from min(expires_at) filter (where expires_at > ${now}) - ${now}::timestamptz) * 1000 as next_ms
    from credentials c join tenants t on t.id = c.tenant_id
    where c.rotated_at is null and c.revoked_at is null and t.status <> 'suspended'`.execute(db)
  const {expired, expiring} = rows[0] ?? {expired: 0, expiring: 0}
  const nextMs = rows[0]?.next_ms === null || rows[0]?.next_ms === undefined ? undefined : Number(rows[0].next_ms)
  // The days to the next expiry, rounded as credentials list rounds them (credential-expiry.ts).
  const value = nextMs === undefined ? undefined : {unit: '' as const, value: Math.round(nextMs / DAY_MS) + 0}
  if (Number(expired) > 0) return {reason: `${expired} expired${Number(expiring) > 0 ? `, ${expiring} expiring within ${EXPIRING_DAYS} days` : ''}: see synthex credentials expiring`, status: 'unhealthy', value}
  if (Number(expiring) > 0) return {reason: `${expiring} expiring within ${EXPIRING_DAYS} days: see synthex credentials expiring`, status: 'degraded', value}
  return {reason: nextMs === undefined ? 'none expiring' : `none expiring within ${EXPIRING_DAYS} days (next in ${describeSpan(nextMs)})`, status: 'healthy', value}
}

/**
 * What the providers last said of the active credentials (`credentials verify`): degraded
 * while a tenant has one the provider rejects or that lacks a required scope (the
 * credential_invalid and credential_scopes_missing alerts name them). Credentials never
 * verified are counted, not held against health: verification is optional, and a new
 * credential is unverified until the next run. The figure is the number of tenants failing.
 */
async function checkVerification(db: Db): ReturnType<Check> {
  const {rows} = await sql<{active: number; failing_credentials: number; failing_tenants: number; rejected: number; unverified: number}>`
    select count(*)::int as active,
           count(l.credential_id) filter (where l.outcome in ('rejected', 'scopes_missing'))::int as failing_credentials,
           count(l.credential_id) filter (where l.outcome = 'rejected')::int as rejected,
           count(distinct c.tenant_id) filter (where l.outcome in ('rejected', 'scopes_missing'))::int as failing_tenants,
           count(*) filter (where l.credential_id is null)::int as unverified
    from credentials c
    join tenants t on t.id = c.tenant_id
    left join credential_verification_latest l on l.credential_id = c.id
    where c.rotated_at is null and c.revoked_at is null and t.status <> 'suspended'`.execute(db)
  const row = rows[0]
  const [active, failingCredentials, failingTenants, rejected, unverified] = [row?.active, row?.failing_credentials, row?.failing_tenants, row?.rejected, row?.unverified].map(Number) as [number, number, number, number, number]
  const value = {unit: '' as const, value: failingTenants}
  const never = unverified > 0 ? `; ${unverified} never verified (synthex credentials verify)` : ''
  if (failingTenants > 0) {
    const kinds = [rejected > 0 ? `${rejected} rejected by the provider` : '', failingCredentials - rejected > 0 ? `${failingCredentials - rejected} missing scopes` : ''].filter(Boolean).join(', ')
    return {reason: `${failingTenants} tenant${failingTenants === 1 ? '' : 's'} with a failing credential (${kinds})${never}: see synthex alerts list`, status: 'degraded', value}
  }

  if (active === unverified) return {reason: active === 0 ? 'no credential to verify' : `none verified yet${never}`, status: 'healthy', value}
  return {reason: `${active - unverified} verified, none rejected or missing scopes${never}`, status: 'healthy', value}
}

async function checkChannels({channels, problems}: {channels: readonly ChannelSpec[]; problems: readonly ChannelProblem[]}): ReturnType<Check> {
  const total = channels.length + problems.length
  const value = {unit: '' as const, value: total}
  if (problems.length > 0) {
    const names = problems.map((problem) => `${problem.name}: ${problem.reason}`).join('; ')
    return {reason: `${problems.length} of ${total} cannot send (${names}): alerts to ${problems.length === 1 ? 'it' : 'them'} would be lost`, status: 'unhealthy', value}
  }

  if (total === 0) return {reason: 'no channel configured: alerts only go to stderr (synthex alerts channels add)', status: 'degraded', value}
  const fromEnvironment = channels.filter((channel) => channel.source === 'environment').map((channel) => channel.variable ?? channel.name)
  return {reason: `${total} configured${fromEnvironment.length > 0 ? ` (${fromEnvironment.join(', ')} from the environment)` : ''}`, status: 'healthy', value}
}

/**
 * Notifications that did not get through: failed in the last day, or still pending and either
 * refused by their provider at least once (waiting on it: a 429's Retry-After, a 5xx, a
 * timeout) or not delivered for over an hour (cron not delivering, a channel that blocks).
 * Each channel concerned is named, with how many, since when, and when the next attempt is due.
 */
async function checkDeliveries(db: Db, now: Date): ReturnType<Check> {
  const {rows: failures} = await sql<{failed: number}>`
    select count(*)::int as failed from alert_notifications where state = 'failed' and created_at > ${new Date(now.getTime() - FAILED_WINDOW_MS)}`.execute(db)
  const {rows: waiting} = await sql<{attempts: number; channel: string; n: number; next_at: Date | string; since: Date | string}>`
    select channel, count(*)::int as n, min(created_at) as since, min(next_attempt_at) as next_at, max(attempts)::int as attempts
    from alert_notifications
    where state = 'pending' and (attempts > 0 or created_at < ${new Date(now.getTime() - STUCK_MS)})
    group by channel
    order by min(created_at), channel`.execute(db)
  const failed = Number(failures[0]?.failed ?? 0)
  const problems = failed > 0 ? [`${failed} failed in the last 24 h`] : []
  for (const row of waiting.slice(0, MAX_CHANNELS_NAMED)) {
    const since = new Date(row.since)
    const nextAt = new Date(row.next_at)
    const attempts = Number(row.attempts)
    const next = nextAt.getTime() > now.getTime() ? `next attempt in ${formatAge(nextAt.getTime() - now.getTime())}` : 'next attempt due now'
    problems.push(
      `${row.n} pending on ${row.channel} since ${timestamp(since)} (${formatAge(now.getTime() - since.getTime())} ago, ${attempts === 0 ? 'not yet attempted' : `${attempts} attempt${attempts === 1 ? '' : 's'} failed`}, ${next})`,
    )
  }

  const more = waiting.length - MAX_CHANNELS_NAMED
  if (more > 0) problems.push(`and ${more} more channel${more === 1 ? '' : 's'}`)
  const pending = waiting.reduce((sum, row) => sum + Number(row.n), 0)
  return problems.length > 0
    ? {reason: `${problems.join(', ')}: see synthex alerts deliveries`, status: 'degraded', value: {unit: '', value: failed + pending}}
    : {reason: 'no failed or waiting notifications', status: 'healthy', value: {unit: '', value: 0}}
}

/**
 * Webhook deliveries that did not get through, named by subscription as the deliveries check
 * names channels: failed in the last day (refused, or three days of retries), pending on a
 * receiver that keeps refusing them or for over an hour, and subscriptions a 410 disabled
 * with deliveries waiting. Healthy when there are none (or no subscription at all).
 */
async function checkWebhookDeliveries(db: Db, now: Date): ReturnType<Check> {
  const {failed, gone, waiting} = await webhookProblems(db, {failedSince: new Date(now.getTime() - FAILED_WINDOW_MS), stuckBefore: new Date(now.getTime() - STUCK_MS)})
  const named = <T>(rows: readonly T[], say: (row: T) => string): string[] => {
    const more = rows.length - MAX_CHANNELS_NAMED
    return [...rows.slice(0, MAX_CHANNELS_NAMED).map(say), ...(more > 0 ? [`and ${more} more subscription${more === 1 ? '' : 's'}`] : [])]
  }

  const problems = [
    ...named(failed, (row) => `${row.n} failed on ${row.subscription} in the last 24 h`),
    ...named(waiting, (row) => {
      const next = row.nextAt.getTime() > now.getTime() ? `next attempt in ${formatAge(row.nextAt.getTime() - now.getTime())}` : 'next attempt due now'
      return `${row.n} pending on ${row.subscription} since ${timestamp(row.since)} (${formatAge(now.getTime() - row.since.getTime())} ago, ${row.attempts === 0 ? 'not yet attempted' : `${row.attempts} attempt${row.attempts === 1 ? '' : 's'} failed`}, ${next})`
    }),
    ...named(gone, (row) => `${row.subscription} disabled (its receiver answered 410 Gone) with ${row.n} waiting`),
  ]
  const count = [...failed, ...waiting, ...gone].reduce((sum, row) => sum + row.n, 0)
  return problems.length > 0
    ? {reason: `${problems.join(', ')}: see synthex webhooks deliveries`, status: 'degraded', value: {unit: '', value: count}}
    : {reason: 'no failed or waiting webhook deliveries', status: 'healthy', value: {unit: '', value: 0}}
}

/** The dead-man's switch: cron is expected to run `alerts check-now` every few minutes. */
async function checkCron(db: Db, now: Date, maxAgeMs: number): ReturnType<Check> {
  const last = await db.selectFrom('alert_runs').select('started_at').where('dry_run', '=', false).orderBy('started_at', 'desc').limit(1).executeTakeFirst()
  if (!last) return {reason: `alerts check-now has never run: schedule it (see ${repositoryFile('examples/crontab')})`, status: 'degraded'}
  const ageMs = Math.max(0, now.getTime() - last.started_at.getTime())
  const value = {unit: 's' as const, value: Math.round(ageMs / 1000)}
  return ageMs > maxAgeMs
    ? {reason: `last alerts check-now ${formatAge(ageMs)} ago, over ${formatDuration(maxAgeMs)}: is its cron job running?`, status: 'degraded', value}
    : {reason: `last alerts check-now ${formatAge(ageMs)} ago`, status: 'healthy', value}
}

interface Endpoint {
  readonly name: string
  /** The channel's outbound address policy: a probe connects only where a send could. */
  readonly policy: NetworkPolicy
  readonly url: URL
}

/** Where each channel sends (no secret: only scheme, host and port are ever shown or used). */
function endpointsOf(channels: readonly ChannelSpec[]): Endpoint[] {
  const endpoints: Endpoint[] = []
  for (const channel of channels) {
    const config = channel.config as Record<string, unknown>
    const target = config.url ?? config.eventsUrl ?? config.apiUrl ?? (channel.type === 'pagerduty' ? DEFAULT_EVENTS_URL : channel.type === 'sendgrid' ? DEFAULT_SENDGRID_URL : undefined)
    if (typeof target !== 'string') continue
    try {
      endpoints.push({name: channel.name, policy: policyOf(config), url: new URL(target)})
    } catch {
      // A channel with a malformed URL is reported by `alerts channels test`.
    }
  }

  return endpoints
}

const DEFAULT_PORTS: Record<string, number> = {'http:': 80, 'https:': 443, 'smtp:': 587, 'smtps:': 465}

/**
 * Reachable: a TCP connection to the endpoint's host and port opens. Nothing is sent, so a
 * probe never posts to a channel or counts against an API's quota.
 */
async function checkReachable(url: URL, timeoutMs: number, policy: NetworkPolicy = {allowHttp: true, allowPrivateNetwork: true}): ReturnType<Check> {
  const port = url.port ? Number(url.port) : (DEFAULT_PORTS[url.protocol] ?? 443)
  const where = `${url.hostname}:${port}`
  const started = performance.now()
  try {
    const socket = await guardedConnect(url.hostname, port, {policy, timeoutMs})
    socket.destroy()
  } catch (error) {
    throw new Error(`${where}: ${firstLine(error)}`, {cause: error})
  }

  const ms = round(performance.now() - started)
  return {reason: `${where} reachable in ${ms} ms`, status: 'healthy', value: {unit: 'ms', value: ms}}
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'failed'
}

/** `2025-06-01T10:00:00Z`: to the second, in UTC. */
const timestamp = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z')
const round = (ms: number): number => Math.round(ms * 10) / 10
const formatSeconds = (ms: number): string => `${ms / 1000} s`

/** An age or a wait, rounded, in the units flags take (`45s`, `12m`, `5h`, `3d`), as formatDuration says a setting. */
function formatAge(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)}m`
  if (ms < 2 * DAY_MS) return `${Math.round(ms / 3_600_000)}h`
  return `${Math.round(ms / DAY_MS)}d`
}
