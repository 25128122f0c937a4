import {randomUUID} from 'node:crypto'

import type {Keyring} from '../../crypto/keyring.js'
import type {Db} from '../../db/schema.js'
import {PING} from './event-catalogue.js'
import {findSubscription, openSubscription} from './subscriptions.js'
import {type SendOutcome, sendWebhook} from './webhook-sender.js'

/**
 * `webhooks test`: a `ping` event sent to a subscription's URL now, signed like any delivery
 * (webhook-sender.ts), so that its receiver and its signature check can be tried before any
 * real event. It is not stored: nothing retries it, and `webhooks deliveries` does not list it.
 */

export interface PingResult {
  /** The subscription is disabled: the ping is sent all the same, to see whether its receiver is back. */
  readonly disabled: boolean
  readonly durationMs: number
  readonly messageId: string
  readonly outcome: SendOutcome
  readonly subscription: string
  /** The URL's host (the URL itself may be a secret). */
  readonly urlHost: string
}

export function pingBody(subscription: string, at: Date): string {
  return JSON.stringify({data: {subscription}, timestamp: at.toISOString(), type: PING})
}

export async function pingSubscription(db: Db, keyring: Keyring, name: string, options: {now?: Date; signal?: AbortSignal; timeoutMs?: number} = {}): Promise<PingResult> {
  const row = await findSubscription(db, name)
  const now = options.now ?? new Date()
  const {secrets, url} = openSubscription(keyring, row, now)
  const messageId = `msg_${randomUUID().replaceAll('-', '')}`
  const started = performance.now()
  const outcome = await sendWebhook(
    {policy: {allowHttp: row.allow_http, allowPrivateNetwork: row.allow_private_network}, secrets, url},
    {body: pingBody(row.name, now), id: messageId},
    {signal: options.signal, timeoutMs: options.timeoutMs},
  )
  return {disabled: row.disabled_at !== null, durationMs: performance.now() - started, messageId, outcome, subscription: row.name, urlHost: row.url_host}
}
