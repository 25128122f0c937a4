/**
 * What a notifier sends, and how a delivery fails. Modelled on Alertmanager's notify/:
 * one interface for every channel, and the retry decision carried by the error.
 */

import type {Severity} from '../domain/severity.js'

export type MessageKind = 'escalated' | 'firing' | 'reminder' | 'resolved' | 'test'

/** One alert as a notification carries it: a snapshot taken when it was decided to send. */
export interface AlertMessage {
  readonly alertId: number | null
  /** Rule-specific facts: service, label, daysLeft, expiresAt, inactiveDays... */
  readonly details: Readonly<Record<string, unknown>>
  /** For an escalation: the severity that was sent before. */
  readonly escalatedFrom?: Severity
  readonly fingerprint: string
  readonly kind: MessageKind
  readonly rule: string
  readonly severity: Severity
  readonly startedAt: string
  readonly summary: string
  readonly tenantId: string
  readonly tenantName: string
  readonly workspace: string
}

/** One request to a provider: one alert (PagerDuty) or a digest of several. */
export interface Delivery {
  /** Base URL of the operator console, for "Rotate credential" links (SYNTHEX_CONSOLE_URL). */
  readonly consoleUrl?: string
  readonly messages: readonly AlertMessage[]
  readonly runId: string
}

/** The provider's answer, kept with the delivery (e.g. `200 ok`, `202 Event processed`). */
export interface DeliveryReceipt {
  readonly response: string
}

/**
 * A failed delivery. `retryable`: try again later (429, 5xx, network, timeout), waiting at
 * least `retryAfterMs` when the provider said so; otherwise the request itself is wrong and
 * repeating it cannot help (other 4xx). `response` is the provider's error body, verbatim.
 */
export class DeliveryError extends Error {
  readonly response: string | undefined
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined
  readonly status: number | undefined

  constructor(message: string, options: {response?: string; retryable: boolean; retryAfterMs?: number; status?: number}) {
    super(message)
    this.name = 'DeliveryError'
    this.retryable = options.retryable
    this.retryAfterMs = options.retryAfterMs
    this.status = options.status
    this.response = options.response
  }
}

/** How fast a channel may be sent to, per process. */
export interface RateLimits {
  /** Requests in flight at once. */
  readonly concurrency: number
  /** Requests per minute at most. */
  readonly perMinute: number
}

export interface Notifier {
  /**
   * How notifications are grouped into one request: by this key (a digest per run, or per
   * run and severity), at most `maxPerRequest` of them. PagerDuty: one alert per request.
   */
  groupKey(message: AlertMessage, runId: string): string
  readonly limits: RateLimits
  readonly maxPerRequest: number
  send(delivery: Delivery, signal: AbortSignal): Promise<DeliveryReceipt>
  readonly type: string
}

/**
 * What every notifier built from a configuration shares: its validated configuration, its
 * rate limits, and by default one digest per run. PagerDuty (one event per alert) and Slack
 * (a digest per run and severity) group otherwise.
 */
export abstract class ConfiguredNotifier<Config> implements Notifier {
  abstract readonly maxPerRequest: number
  abstract readonly type: string

  constructor(
    protected readonly config: Config,
    readonly limits: RateLimits,
  ) {}

  groupKey(_message: AlertMessage, runId: string): string {
    return runId
  }

  abstract send(delivery: Delivery, signal: AbortSignal): Promise<DeliveryReceipt>
}
