import * as z from 'zod/mini'

import {consoleLink, headline, truncate} from './format.js'
import {excerpt, post} from './http.js'
import {networkOptions, policyOf} from './network-options.js'
import {type AlertMessage, ConfiguredNotifier, type Delivery, type DeliveryReceipt} from './notifier.js'

/**
 * PagerDuty Events API v2: one event per alert, `dedup_key` = the alert's fingerprint, so a
 * trigger sent twice is one incident and `resolve` closes it. 202 is success; 400 (invalid
 * event) is permanent; 429 and 5xx are retried.
 */

export const DEFAULT_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue'
const SUMMARY_MAX = 1024

export const pagerdutyConfig = z.object({
  ...networkOptions,
  eventsUrl: z._default(z.url({protocol: /^https?$/}), DEFAULT_EVENTS_URL),
  routingKey: z.string().check(z.regex(/^[\w-]{20,64}$/, {error: 'must be the integration key (routing key) of a PagerDuty Events API v2 service'})),
})

export type PagerDutyConfig = z.infer<typeof pagerdutyConfig>

/** The event for one alert; exported for the tests of its limits. */
export function pagerdutyEvent(routingKey: string, message: AlertMessage, consoleUrl: string | undefined): Record<string, unknown> {
  const link = consoleLink(consoleUrl, message)
  return {
    client: 'synthex',
    dedup_key: message.fingerprint,
    event_action: message.kind === 'resolved' ? 'resolve' : 'trigger',
    ...(link ? {links: [{href: link, text: message.details.service ? 'Rotate credential' : 'Open tenant'}]} : {}),
    payload: {
      class: message.rule,
      component: message.details.service === undefined ? undefined : String(message.details.service),
      custom_details: {...message.details, tenant: message.tenantId, tenantName: message.tenantName, workspace: message.workspace},
      group: message.workspace,
      severity: message.severity,
      source: `synthex/${message.workspace}/${message.tenantId}`,
      summary: truncate(headline(message), SUMMARY_MAX),
      timestamp: message.startedAt,
    },
    routing_key: routingKey,
  }
}

export class PagerDutyNotifier extends ConfiguredNotifier<PagerDutyConfig> {
  readonly maxPerRequest = 1
  readonly type = 'pagerduty'

  override groupKey(message: AlertMessage): string {
    return message.fingerprint
  }

  async send(delivery: Delivery, signal: AbortSignal): Promise<DeliveryReceipt> {
    const responses: string[] = []
    for (const message of delivery.messages) {
      const answer = await post(this.config.eventsUrl, JSON.stringify(pagerdutyEvent(this.config.routingKey, message, delivery.consoleUrl)), {
        policy: policyOf(this.config),
        signal,
      })
      let detail = answer.body
      try {
        const said = (JSON.parse(answer.body) as {message?: unknown} | null)?.message
        if (typeof said === 'string') detail = excerpt(said)
      } catch {
        // not JSON: keep it as it came
      }

      responses.push(`${answer.status} ${detail}`.trim())
    }

    return {response: responses.join('; ')}
  }
}
