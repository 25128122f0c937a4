import {RETRY_AFTER_CAP_MS} from '../../../net/retry-after.js'
import {DeliveryError} from '../../../notifiers/notifier.js'

/**
 * What the delivery engine takes from a notifier's answer, made safe to store. A notifier
 * relays a provider, and a provider may answer anything: a Retry-After of 10^17 seconds, a
 * body of 200 MB, bytes Postgres cannot hold. The engine trusts none of it, whatever the HTTP
 * layer below already checked: every wait is finite and at most MAX_RETRY_AFTER_MS, every
 * text a bounded excerpt, every timestamp valid. One absurd answer must never keep the
 * outcomes written beside it from being recorded (src/services/alert-delivery.ts).
 */

/** The longest wait a provider can impose on a notification: a longer Retry-After waits this long, and the stored error says so. */
export const MAX_RETRY_AFTER_MS = RETRY_AFTER_CAP_MS
/** Provider answers and errors are stored (and shown) as an excerpt of at most this many bytes of UTF-8. */
export const MAX_STORED_BYTES = 2048

/** A notifier's failure, as the engine acts on it. */
export interface Failure {
  /** The notifier's message, as text (not yet bounded: see storedError). */
  readonly message: string
  /** What the engine made of the wait asked for, when it did not honour it as asked ('' otherwise). */
  readonly note: string
  readonly retryable: boolean
  /** How long the provider asked the channel to wait: finite, 0 to MAX_RETRY_AFTER_MS. */
  readonly retryAfterMs: number | undefined
}

/** A lone surrogate (invalid in UTF-8) or a NUL (which a Postgres text cannot hold). */
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be found.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * At most `maxBytes` of UTF-8, cut on a character boundary and marked as cut (with the size
 * of the whole: `total` bytes, when `value` is already a prefix of it), with what Postgres
 * cannot store replaced by U+FFFD. A 200 MB answer costs one pass to measure it, never a copy.
 */
export function excerpt(value: string, maxBytes = MAX_STORED_BYTES, total = Buffer.byteLength(value)): string {
  // No character is less than a byte: the first maxBytes characters hold the whole excerpt.
  const head = value.slice(0, maxBytes).replace(UNSTORABLE, '\uFFFD')
  const bytes = Buffer.from(head)
  if (total <= maxBytes && bytes.length <= maxBytes) return head
  const marker = ` … [cut: ${total.toLocaleString('en-US')} bytes in all]`
  let end = Math.max(0, Math.min(bytes.length, maxBytes - Buffer.byteLength(marker)))
  // Back off to the start of the character the cut falls in (UTF-8 continuation bytes are 10xxxxxx).
  while (end > 0 && end < bytes.length && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
  return `${bytes.toString('utf8', 0, end)}${marker}`
}

/** Anything as text, never throwing (a thrown `null`, an object whose toString throws). */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value
  try {
    return String(value)
  } catch {
    return `an unprintable ${typeof value}`
  }
}

/** Reads a property a notifier set, never throwing (a getter may). */
function read<T>(get: () => T): T | undefined {
  try {
    return get()
  } catch {
    return undefined
  }
}

/** The provider's answer on success (`200 ok`), for `provider_response`. */
export function responseOf(receipt: unknown): string {
  const response = read(() => (receipt as {response?: unknown} | null | undefined)?.response)
  return excerpt(response === undefined || response === null ? '' : textOf(response))
}

/**
 * What a failed send means for the engine. A DeliveryError says whether to retry and how long
 * the provider asked to wait; anything else thrown is a bug in the notifier, and permanent. A
 * wait that is not a finite positive number of milliseconds is ignored; one beyond
 * MAX_RETRY_AFTER_MS is cut to it.
 */
export function failureOf(error: unknown): Failure {
  if (!(error instanceof DeliveryError)) {
    const message = error instanceof Error ? read(() => error.message) : error
    return {message: `internal error: ${textOf(message)}`, note: '', retryable: false, retryAfterMs: undefined}
  }

  const asked = read(() => error.retryAfterMs)
  let retryAfterMs: number | undefined
  let note = ''
  if (typeof asked === 'number' && asked > MAX_RETRY_AFTER_MS) {
    retryAfterMs = MAX_RETRY_AFTER_MS
    note = ` (Retry-After of ${describeWait(asked)} capped at 1h)`
  } else if (typeof asked === 'number' && asked > 0) {
    retryAfterMs = Math.ceil(asked)
  } else if (asked !== undefined && asked !== null && !(typeof asked === 'number' && asked <= 0)) {
    note = ' (an unreadable Retry-After was ignored)'
  }

  return {message: textOf(read(() => error.message)), note, retryable: read(() => error.retryable) === true, retryAfterMs}
}

/** An error for `last_error`: the message cut to fit, then what the engine adds to it, whole. */
export function storedError(message: string, suffix = ''): string {
  return `${excerpt(message, MAX_STORED_BYTES - Buffer.byteLength(suffix))}${suffix}`
}

/** A date that Postgres accepts: `ms` since the epoch, or `fallback` when that is not a valid time. */
export function validDate(ms: number, fallback: () => number = Date.now): Date {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? new Date(fallback()) : date
}

function describeWait(ms: number): string {
  const days = ms / 86_400_000
  if (!Number.isFinite(ms) || days > 36_500) return 'over a century'
  if (days >= 2) return `${Number(days.toFixed(1)).toLocaleString('en-US')} days`
  return `${Number((ms / 3_600_000).toFixed(1)).toLocaleString('en-US')} h`
}
