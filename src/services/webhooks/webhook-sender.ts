import type {NetworkPolicy} from '../../net/address-policy.js'
import {OutboundError} from '../../net/outbound-error.js'
import {outboundRequest, redirectHost} from '../../net/outbound-request.js'
import {parseRetryAfter} from '../../net/retry-after.js'
import {providerMessage} from '../../net/provider-message.js'
import {signDelivery} from './webhook-signature.js'

/**
 * One attempt at one webhook delivery: the stored body POSTed, exactly as signed, to the
 * subscription's URL through src/net/outbound-request.ts, which holds what a webhook must
 * never do: the resolved address is checked against the subscription's policy when it is
 * connected to (guarded-lookup.ts; a literal IP in the URL by outbound-url.ts), so a name
 * that resolves to a private address at send time is refused even though it did not when
 * the subscription was added; a redirect is never followed (a 3xx is a failure: following
 * it would carry the signed body elsewhere); at most MAX_ANSWER_BYTES of the answer are
 * read; every attempt ends within its timeout.
 *
 * The answer decides the outcome: `sent` (2xx); `retry` (408, 429 and 5xx, with the
 * receiver's Retry-After; a timeout, a network error); `gone` (410: the receiver says the
 * endpoint no longer exists); `failed` (any other status, a 3xx, an address refused).
 * What the receiver said is kept as a short excerpt, with the subscription's URL and secrets
 * and anything shaped like a token taken out (src/services/verification/provider-message.ts):
 * a receiver may echo what it was sent or where.
 */

/** Sent with every delivery, so that receivers (and their firewalls) can tell synthex's webhooks apart. */
export const WEBHOOK_USER_AGENT = 'synthex-webhooks/1'
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000
/** How much of an answer is read: a receiver's answer is only shown, never used. */
const MAX_ANSWER_BYTES = 4096

export interface WebhookTarget {
  readonly policy: NetworkPolicy
  /** Newest first: during a rotation's overlap, both sign. */
  readonly secrets: readonly string[]
  readonly url: string
}

export interface WebhookMessage {
  /** The exact bytes sent and signed. */
  readonly body: string
  /** `webhook-id`: the same on every attempt of a delivery. */
  readonly id: string
}

export type SendOutcome =
  | {readonly answer: null | string; readonly kind: 'sent'; readonly status: number}
  | {readonly error: string; readonly kind: 'failed' | 'gone'; readonly status: null | number}
  | {readonly error: string; readonly kind: 'retry'; readonly retryAfterMs: number | undefined; readonly status: null | number}
  | {readonly kind: 'interrupted'}

export interface SendOptions {
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
  /** The attempt's `webhook-timestamp` (the wall clock by default: receivers compare it with theirs). */
  readonly timestampSeconds?: number
}

export async function sendWebhook(target: WebhookTarget, message: WebhookMessage, options: SendOptions = {}): Promise<SendOutcome> {
  const timestamp = options.timestampSeconds ?? Math.floor(Date.now() / 1000)
  const signed = signDelivery(message.id, timestamp, message.body, target.secrets)
  let response
  try {
    response = await outboundRequest(target.url, {
      body: message.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': WEBHOOK_USER_AGENT,
        'webhook-id': signed['webhook-id'],
        'webhook-signature': signed['webhook-signature'],
        'webhook-timestamp': signed['webhook-timestamp'],
        'x-webhook-signature': signed['x-webhook-signature'],
      },
      maxBodyBytes: MAX_ANSWER_BYTES,
      method: 'POST',
      policy: target.policy,
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
    })
  } catch (error) {
    // OutboundError messages never carry the URL or the host name (outbound-error.ts).
    if (!(error instanceof OutboundError)) throw error
    // This run gave up (Ctrl-C, SIGTERM, its own stop): not the receiver's failure, no attempt.
    if (error.reason === 'interrupted') return {kind: 'interrupted'}
    return error.retryable ? {error: error.message, kind: 'retry', retryAfterMs: undefined, status: null} : {error: error.message, kind: 'failed', status: null}
  }

  const {status} = response
  const said = providerMessage(response.body, [target.url, ...urlSecrets(target.url), ...target.secrets])
  const answer = said === null ? null : response.truncated && !said.endsWith('...') ? `${said}...` : said
  if (status >= 200 && status < 300) return {answer, kind: 'sent', status}
  if (status >= 300 && status < 400) {
    const host = redirectHost(response, target.url)
    return {error: `HTTP ${status}: redirect${host ? ` to ${host}` : ''} not followed`, kind: 'failed', status}
  }

  const text = status < 100 || status >= 600 ? `HTTP ${status}: not an HTTP status` : `HTTP ${status}${answer ? `: ${answer}` : ''}`
  if (status === 410) return {error: text, kind: 'gone', status}
  if (status === 408 || status === 429 || (status >= 500 && status < 600)) {
    const retryAfter = parseRetryAfter(response.headers['retry-after'])
    return {error: `${text}${retryAfter.note ? ` (${retryAfter.note})` : ''}`, kind: 'retry', retryAfterMs: retryAfter.ms, status}
  }

  return {error: text, kind: 'failed', status}
}

/**
 * The parts of a URL that may be its secret, for scrubbing an answer that quotes them
 * (Express's `Cannot POST /hooks/<token>`, n8n's `webhook "<uuid>" is not registered`):
 * the path with its query, each path segment and query value of 8 characters or more.
 */
export function urlSecrets(url: string): string[] {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return []
  }

  const parts = [`${parsed.pathname}${parsed.search}`, parsed.pathname, ...parsed.pathname.split('/'), ...[...parsed.searchParams.values()]]
  return [...new Set(parts.flatMap((part) => [part, safeDecode(part)]))].filter((part) => part.length >= 8)
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
