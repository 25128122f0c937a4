import {randomBytes} from 'node:crypto'

import {sql} from 'kysely'

import {seal, unseal} from '../../crypto/envelope.js'
import type {Keyring} from '../../crypto/keyring.js'
import type {Db} from '../../db/schema.js'
import {ConflictError, InvalidInputError, NotFoundError} from '../../errors/input-errors.js'
import {refusedAddressOf, refusedMessage} from '../../net/guarded-lookup.js'
import {outboundUrlProblem} from '../../net/outbound-url.js'
import {type Audit, recordEvents} from '../events/events.js'
import type {Workspace} from '../workspaces/workspaces.js'
import {isEventPattern, WEBHOOK_EVENT_TYPES} from './event-catalogue.js'
import {SECRET_PREFIX} from './webhook-signature.js'

/**
 * Webhook subscriptions: a name, an https URL, the event patterns it wants, and a signing
 * secret of its own (`whsec_` + 32 random bytes in base64, shown once). The URL and the
 * secrets are sealed together like a channel's secret (migrations/0015_webhooks.sql): a URL
 * may itself be a secret (Zapier's, n8n's), so lists show only its host.
 */

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/

export interface SubscriptionInput {
  readonly allowHttp?: boolean
  readonly allowPrivateNetwork?: boolean
  readonly events: readonly string[]
  readonly name: string
  readonly url: string
  /** Only this workspace's events; every workspace's when undefined. */
  readonly workspace?: Workspace
}

export interface Subscription {
  readonly allowHttp: boolean
  readonly allowPrivateNetwork: boolean
  readonly createdAt: Date
  readonly disabledAt: Date | null
  readonly disabledReason: null | string
  readonly events: readonly string[]
  readonly id: string
  readonly name: string
  /** The URL's host: the URL itself may be a secret. */
  readonly urlHost: string
  readonly workspaceId: null | string
}

/** What a subscription's sealed part holds. */
export interface SubscriptionSecrets {
  readonly previousSecret?: string
  readonly secret: string
  readonly url: string
}

export function newSigningSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`
}

export function subscriptionAad(id: string): string {
  return `synthex:webhook:v1|id=${id}`
}

/** The URL, the newest secret, and the previous one while its overlap lasts. */
export function openSubscription(keyring: Keyring, row: {id: string; name: string; previous_secret_until: Date | null; secrets_ciphertext: string}, now = new Date()): {secrets: string[]; url: string} {
  const opened = JSON.parse(unseal(keyring, row.secrets_ciphertext, subscriptionAad(row.id), `webhook subscription ${row.name}`)) as SubscriptionSecrets
  const overlapping = opened.previousSecret !== undefined && row.previous_secret_until !== null && row.previous_secret_until.getTime() > now.getTime()
  return {secrets: overlapping ? [opened.secret, opened.previousSecret as string] : [opened.secret], url: opened.url}
}

export function sealSubscription(keyring: Keyring, id: string, secrets: SubscriptionSecrets): string {
  return seal(keyring, JSON.stringify(secrets), subscriptionAad(id)).value
}

/** Checks what a subscription is made of; the URL is never quoted back (it may be a secret). */
export async function subscriptionProblems(input: Pick<SubscriptionInput, 'allowHttp' | 'allowPrivateNetwork' | 'events' | 'name' | 'url'>): Promise<Array<{field: string; message: string}>> {
  const issues: Array<{field: string; message: string}> = []
  if (!NAME.test(input.name)) issues.push({field: 'name', message: 'must be 1-63 lower-case letters, digits, "-" or "_"'})
  if (input.events.length === 0) issues.push({field: 'events', message: `needs at least one event type or pattern (e.g. tenant.*, or * for all): ${WEBHOOK_EVENT_TYPES.join(', ')}`})
  const unknown = input.events.filter((pattern) => !isEventPattern(pattern))
  if (unknown.length > 0) issues.push({field: 'events', message: `${unknown.map((pattern) => JSON.stringify(pattern.slice(0, 80))).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not an event type or pattern; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`})
  const policy = {allowHttp: input.allowHttp ?? false, allowPrivateNetwork: input.allowPrivateNetwork ?? false}
  const urlProblem = outboundUrlProblem(input.url, policy)
  if (urlProblem) issues.push({field: 'url', message: urlProblem})
  else {
    // Checked again on the resolved address at every send (src/net/guarded-lookup.ts).
    const refused = await refusedAddressOf(new URL(input.url).hostname, policy)
    if (refused) issues.push({field: 'url', message: refusedMessage(refused.address)})
  }

  return issues
}

/** Adds a subscription; the secret is returned once, here, and never shown again. */
export async function addSubscription(db: Db, keyring: Keyring, audit: Audit, input: SubscriptionInput): Promise<{secret: string; subscription: Subscription}> {
  const issues = await subscriptionProblems(input)
  if (issues.length > 0) throw new InvalidInputError(issues, issues.some((issue) => issue.field === 'url') ? 'For a receiver inside your network, or over plain http, add --allow-private-network or --allow-http.' : undefined)
  const secret = newSigningSecret()
  return db.transaction().execute(async (trx) => {
    const taken = await trx.selectFrom('webhook_subscriptions').select('id').where('name', '=', input.name).executeTakeFirst()
    if (taken) throw new ConflictError(`A webhook subscription named "${input.name}" exists already.`, 'Pick another name, or remove it first (`synthex webhooks remove`).')
    const id = (await trx.selectNoFrom((eb) => eb.fn<string>('gen_random_uuid').as('id')).executeTakeFirstOrThrow()).id
    const row = await trx
      .insertInto('webhook_subscriptions')
      .values({
        allow_http: input.allowHttp ?? false,
        allow_private_network: input.allowPrivateNetwork ?? false,
        created_by: audit.actor,
        events: [...new Set(input.events)],
        id,
        name: input.name,
        secrets_ciphertext: sealSubscription(keyring, id, {secret, url: input.url}),
        url_host: new URL(input.url).host,
        workspace_id: input.workspace?.id ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    const subscription = toSubscription(row)
    await recordEvents(trx, audit, [
      {aggregateId: row.name, aggregateType: 'webhook_subscription', data: {events: row.events, name: row.name, urlHost: row.url_host}, type: 'webhook.added', workspaceId: row.workspace_id},
    ])
    return {secret, subscription}
  })
}

export async function findSubscription(db: Db, name: string) {
  const row = await db.selectFrom('webhook_subscriptions').selectAll().where('name', '=', name).executeTakeFirst()
  if (!row) throw new NotFoundError(`There is no webhook subscription named "${name}".`, 'See `synthex webhooks list`.')
  return row
}

export function toSubscription(row: {allow_http: boolean; allow_private_network: boolean; created_at: Date; disabled_at: Date | null; disabled_reason: null | string; events: string[]; id: string; name: string; url_host: string; workspace_id: null | string}): Subscription {
  return {
    allowHttp: row.allow_http,
    allowPrivateNetwork: row.allow_private_network,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
    events: row.events,
    id: row.id,
    name: row.name,
    urlHost: row.url_host,
    workspaceId: row.workspace_id,
  }
}

/**
 * Which subscriptions a caller may see and change: an API key limited to a workspace reaches
 * only the subscriptions limited to that workspace (others answer "not found", as tenants of
 * another workspace do); the CLI and unlimited keys reach every one.
 */
export interface SubscriptionReach {
  readonly workspaceId: null | string
}

const EVERYWHERE: SubscriptionReach = {workspaceId: null}

/** A subscription as lists show it: never its URL or secrets, with its deliveries counted. */
export interface SubscriptionView extends Subscription {
  readonly deliveries: {
    readonly failed: number
    /** The newest delivery that was sent or gave up: when, how, and the receiver's HTTP status. */
    readonly last: null | {readonly at: Date | null; readonly state: string; readonly status: null | number}
    readonly pending: number
  }
  /** The end of a rotation's overlap, while the previous secret still signs too. */
  readonly previousSecretUntil: Date | null
  /** The workspace it is limited to, or null for every workspace. */
  readonly workspace: null | string
}

/** Every subscription (within reach), by name, with its delivery counts: one statement. */
export async function listSubscriptions(db: Db, reach: SubscriptionReach = EVERYWHERE, now = new Date()): Promise<SubscriptionView[]> {
  let select = db
    .selectFrom('webhook_subscriptions as s')
    .leftJoin('workspaces as w', 'w.id', 's.workspace_id')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('webhook_deliveries as d')
          .whereRef('d.subscription_id', '=', 's.id')
          .select([sql<number>`count(*) filter (where d.state = 'pending')`.as('pending'), sql<number>`count(*) filter (where d.state = 'failed')`.as('failed')])
          .as('counts'),
      (join) => join.onTrue(),
    )
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('webhook_deliveries as d')
          .whereRef('d.subscription_id', '=', 's.id')
          .where('d.state', '<>', 'pending')
          .select(['d.state as last_state', 'd.last_status', sql<Date | null>`coalesce(d.finished_at, d.sent_at)`.as('last_at')])
          .orderBy('d.id', 'desc')
          .limit(1)
          .as('last'),
      (join) => join.onTrue(),
    )
    .selectAll('s')
    .select(['w.slug as workspace_slug', 'counts.pending', 'counts.failed', 'last.last_state', 'last.last_status', 'last.last_at'])
  if (reach.workspaceId !== null) select = select.where('s.workspace_id', '=', reach.workspaceId)
  const rows = await select.orderBy('s.name').execute()
  return rows.map((row) => ({
    ...toSubscription(row),
    deliveries: {
      failed: Number(row.failed ?? 0),
      last: row.last_state ? {at: row.last_at ?? null, state: row.last_state, status: row.last_status ?? null} : null,
      pending: Number(row.pending ?? 0),
    },
    previousSecretUntil: row.previous_secret_until && row.previous_secret_until.getTime() > now.getTime() ? row.previous_secret_until : null,
    workspace: row.workspace_slug ?? null,
  }))
}

/** A subscription by name, within reach; locked for the rest of the transaction when `forUpdate`. */
async function subscriptionWithin(db: Db, name: string, reach: SubscriptionReach, forUpdate = false) {
  let select = db.selectFrom('webhook_subscriptions').selectAll().where('name', '=', name)
  if (reach.workspaceId !== null) select = select.where('workspace_id', '=', reach.workspaceId)
  const row = await (forUpdate ? select.forUpdate() : select).executeTakeFirst()
  // The name is the caller's own input, cut short: it is never a secret, but may be long.
  if (!row) throw new NotFoundError(`There is no webhook subscription named "${name.slice(0, 80)}".`, 'See `synthex webhooks list`.')
  return row
}

/** Removes a subscription; its deliveries, pending ones included, go with it (`on delete cascade`). */
export async function removeSubscription(db: Db, audit: Audit, name: string, reach: SubscriptionReach = EVERYWHERE): Promise<{name: string; pendingDropped: number}> {
  return db.transaction().execute(async (trx) => {
    const row = await subscriptionWithin(trx, name, reach, true)
    const pending = await trx.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('subscription_id', '=', row.id).where('state', '=', 'pending').executeTakeFirstOrThrow()
    await trx.deleteFrom('webhook_subscriptions').where('id', '=', row.id).execute()
    const pendingDropped = Number(pending.n)
    await recordEvents(trx, audit, [
      {aggregateId: row.name, aggregateType: 'webhook_subscription', data: {name: row.name, pendingDropped, urlHost: row.url_host}, type: 'webhook.removed', workspaceId: row.workspace_id},
    ])
    return {name: row.name, pendingDropped}
  })
}

/** How long the previous secret keeps signing after a rotation: a day unless said, at most a week. */
export const DEFAULT_OVERLAP_MS = 24 * 3_600_000
export const MAX_OVERLAP_MS = 7 * 86_400_000

/**
 * Gives a subscription a new signing secret, returned once. The previous one keeps signing
 * too (a second `v1,` signature) until `now + overlapMs`, so receivers can switch without
 * dropping a delivery; an overlap of 0 drops it at once. A rotation during an overlap
 * replaces the older previous secret: only the newest two ever sign.
 */
export async function rotateSubscriptionSecret(
  db: Db,
  keyring: Keyring,
  audit: Audit,
  name: string,
  options: {now?: Date; overlapMs?: number; reach?: SubscriptionReach} = {},
): Promise<{previousSecretUntil: Date | null; secret: string; subscription: Subscription}> {
  const overlapMs = options.overlapMs ?? DEFAULT_OVERLAP_MS
  if (!Number.isInteger(overlapMs) || overlapMs < 0 || overlapMs > MAX_OVERLAP_MS) throw new InvalidInputError([{field: 'overlap', message: 'must be between 0s and 7d'}])
  const now = options.now ?? new Date()
  const secret = newSigningSecret()
  return db.transaction().execute(async (trx) => {
    const row = await subscriptionWithin(trx, name, options.reach ?? EVERYWHERE, true)
    const opened = JSON.parse(unseal(keyring, row.secrets_ciphertext, subscriptionAad(row.id), `webhook subscription ${row.name}`)) as SubscriptionSecrets
    const previousSecretUntil = overlapMs > 0 ? new Date(now.getTime() + overlapMs) : null
    const sealed: SubscriptionSecrets = previousSecretUntil ? {previousSecret: opened.secret, secret, url: opened.url} : {secret, url: opened.url}
    const updated = await trx
      .updateTable('webhook_subscriptions')
      .set({previous_secret_until: previousSecretUntil, secrets_ciphertext: sealSubscription(keyring, row.id, sealed), updated_at: now})
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow()
    await recordEvents(trx, audit, [
      {aggregateId: row.name, aggregateType: 'webhook_subscription', data: {name: row.name, previousSecretUntil: previousSecretUntil?.toISOString() ?? null}, type: 'webhook.secret_rotated', workspaceId: row.workspace_id},
    ])
    return {previousSecretUntil, secret, subscription: toSubscription(updated)}
  })
}

/**
 * Turns a disabled subscription (a receiver that answered 410 Gone) back on: events are
 * queued for it again, and its pending deliveries are due at once. One that is enabled
 * already is left as it is (`wasDisabled: false`).
 */
export async function enableSubscription(db: Db, audit: Audit, name: string, reach: SubscriptionReach = EVERYWHERE): Promise<{resumed: number; subscription: Subscription; wasDisabled: boolean}> {
  return db.transaction().execute(async (trx) => {
    const row = await subscriptionWithin(trx, name, reach, true)
    if (row.disabled_at === null) return {resumed: 0, subscription: toSubscription(row), wasDisabled: false}
    const updated = await trx
      .updateTable('webhook_subscriptions')
      .set({disabled_at: null, disabled_reason: null, updated_at: sql<Date>`now()`})
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow()
    const resumed = await trx
      .updateTable('webhook_deliveries')
      .set({next_attempt_at: sql<Date>`now()`})
      .where('subscription_id', '=', row.id)
      .where('state', '=', 'pending')
      .executeTakeFirst()
    await recordEvents(trx, audit, [
      {aggregateId: row.name, aggregateType: 'webhook_subscription', data: {name: row.name, wasDisabledFor: row.disabled_reason}, type: 'webhook.enabled', workspaceId: row.workspace_id},
    ])
    return {resumed: Number(resumed.numUpdatedRows), subscription: toSubscription(updated), wasDisabled: true}
  })
}

export interface SubscriptionRekeyResult {
  readonly failed: Array<{readonly name: string; readonly reason: string}>
  readonly moved: number
  /** Still not under the active key afterwards (all of them on a dry run). */
  readonly remaining: number
}

/**
 * Re-seals every subscription's URL and secrets that is not under the active key (part of
 * `credentials rekey`). Subscriptions are few: one transaction. One that does not open is
 * reported and left as it is.
 */
export async function rekeySubscriptions(db: Db, keyring: Keyring, audit: Audit, options: {dryRun?: boolean} = {}): Promise<SubscriptionRekeyResult> {
  const active = keyring.active
  if (!active) throw new InvalidInputError([{field: 'SYNTHEX_ENCRYPTION_KEY', message: 'is not set: there is no key to move the subscriptions to'}])
  // The sealed form names its key: v1:<keyId>:... (src/crypto/envelope.ts).
  const underActive = `v1:${active.id}:%`
  if (options.dryRun) {
    const left = await db.selectFrom('webhook_subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).where('secrets_ciphertext', 'not like', underActive).executeTakeFirstOrThrow()
    return {failed: [], moved: 0, remaining: Number(left.n)}
  }

  return db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('webhook_subscriptions').select(['id', 'name', 'secrets_ciphertext', 'workspace_id']).where('secrets_ciphertext', 'not like', underActive).orderBy('name').forUpdate().execute()
    const failed: Array<{name: string; reason: string}> = []
    let moved = 0
    for (const row of rows) {
      try {
        const opened = unseal(keyring, row.secrets_ciphertext, subscriptionAad(row.id), `webhook subscription ${row.name}`)
        await trx.updateTable('webhook_subscriptions').set({secrets_ciphertext: seal(keyring, opened, subscriptionAad(row.id)).value}).where('id', '=', row.id).execute()
        moved++
      } catch (error) {
        failed.push({name: row.name, reason: (error as Error).message})
      }
    }

    if (moved > 0) {
      await recordEvents(trx, audit, [{aggregateId: active.id, aggregateType: 'keyring', data: {moved, toKey: active.id}, type: 'webhooks.rekeyed', workspaceId: null}])
    }

    return {failed, moved, remaining: rows.length - moved}
  })
}
