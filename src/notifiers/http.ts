import type {NetworkPolicy} from '../net/address-policy.js'
import {OutboundError} from '../net/outbound-error.js'
import {outboundRequest, redirectHost} from '../net/outbound-request.js'
import {parseRetryAfter} from '../net/retry-after.js'
import {DeliveryError} from './notifier.js'

export interface HttpAnswer {
  /** The start of the provider's body, at most MAX_EXCERPT characters. */
  readonly body: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly status: number
}

export interface PostOptions {
  readonly headers?: Record<string, string>
  readonly policy: NetworkPolicy
  readonly signal: AbortSignal
  readonly timeoutMs?: number
}

/** How much of a provider's answer is kept with a delivery and shown. */
export const MAX_EXCERPT = 500

/**
 * POSTs a JSON body to a provider and classifies the answer, never naming the URL (a Slack
 * webhook URL is a secret). 2xx is returned; 3xx is a permanent failure (a redirect is never
 * followed: it would carry the routing key or the signed body elsewhere); 429, 408 and 5xx
 * are retryable, waiting as long as the provider's Retry-After says, up to an hour; other
 * statuses are permanent, with the start of the provider's body.
 */
export async function post(url: string, body: string, options: PostOptions): Promise<HttpAnswer> {
  let response
  try {
    response = await outboundRequest(url, {
      body,
      headers: {'content-type': 'application/json', ...options.headers},
      method: 'POST',
      policy: options.policy,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    })
  } catch (error) {
    if (error instanceof OutboundError) throw new DeliveryError(error.message, {retryable: error.retryable})
    throw error
  }

  const {status} = response
  const text = excerpt(response.body, response.truncated)
  if (status >= 200 && status < 300) return {body: text, headers: response.headers, status}
  if (status >= 300 && status < 400) {
    const host = redirectHost(response, url)
    throw new DeliveryError(`HTTP ${status}: redirect${host ? ` to ${host}` : ''} not followed`, {retryable: false, status})
  }

  const retryable = status === 429 || status === 408 || (status >= 500 && status < 600)
  const retryAfter = retryable ? parseRetryAfter(response.headers['retry-after']) : undefined
  const reason = status >= 600 || status < 100 ? 'not an HTTP status' : text
  throw new DeliveryError(`HTTP ${status}${reason ? `: ${reason}` : ''}${retryAfter?.note ? ` (${retryAfter.note})` : ''}`, {
    response: text,
    retryable,
    retryAfterMs: retryAfter?.ms,
    status,
  })
}

/** The start of a provider's body, as it is kept and shown: at most MAX_EXCERPT characters. */
export function excerpt(text: string, truncated = false): string {
  const characters = [...text]
  return characters.length > MAX_EXCERPT || truncated ? `${characters.slice(0, MAX_EXCERPT).join('')}...` : text
}
