import {randomBytes} from 'node:crypto'

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
