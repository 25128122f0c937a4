import {DeliveryError} from './notifier.js'

export interface HttpAnswer {
  readonly body: string
  readonly headers: Headers
  readonly status: number
}

export interface PostOptions {
  readonly headers?: Record<string, string>
  readonly signal: AbortSignal
  readonly timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 10_000
const MAX_ERROR_BODY = 500

/**
 * POSTs a body and classifies the answer, never naming the URL (a Slack webhook URL is a
 * secret). 2xx is returned; 429, 408 and 5xx become retryable DeliveryErrors (with the
 * Retry-After the provider sent); other 4xx are permanent, with the provider's body verbatim.
 */
export async function post(url: string, body: string, options: PostOptions): Promise<HttpAnswer> {
  let response: Response
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  try {
    response = await fetch(url, {
      body,
      headers: {'content-type': 'application/json', 'user-agent': 'synthex', ...options.headers},
      method: 'POST',
      signal: AbortSignal.any([options.signal, timeout]),
    })
  } catch (error) {
    if (timeout.aborted) throw new DeliveryError(`no answer within ${(options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000}s`, {retryable: true})
    if (options.signal.aborted) throw new DeliveryError('interrupted', {retryable: true})
    const cause = (error as {cause?: {code?: string}}).cause
    throw new DeliveryError(`network error: ${cause?.code ?? (error as Error).message}`, {retryable: true})
  }

  const text = await response.text().catch(() => '')
  if (response.ok) return {body: text, headers: response.headers, status: response.status}
  const excerpt = text.length > MAX_ERROR_BODY ? `${text.slice(0, MAX_ERROR_BODY)}...` : text
  const retryable = response.status === 429 || response.status === 408 || response.status >= 500
  throw new DeliveryError(`HTTP ${response.status}${excerpt ? `: ${excerpt}` : ''}`, {
    response: excerpt,
    retryable,
    retryAfterMs: retryable ? retryAfter(response.headers.get('retry-after')) : undefined,
    status: response.status,
  })
}

/** Retry-After is seconds or an HTTP date (RFC 9110); undefined when absent or unreadable. */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
