import * as z from 'zod/mini'

import {consoleLink, digestTitle, escapeMrkdwn, headline, SEVERITY_MARK, truncate, truncateMrkdwn} from './format.js'
import {excerpt, post} from './http.js'
import {networkOptions, policyOf} from './network-options.js'
import {type AlertMessage, ConfiguredNotifier, type Delivery, type DeliveryReceipt} from './notifier.js'

/**
 * Slack incoming webhooks: a Block Kit digest per run and severity. Slack takes at most 50
 * blocks a message; each alert is one section block (its button an accessory), so a digest
 * of more than MAX_PER_MESSAGE alerts goes out as several messages. Success is `200 ok`;
 * errors (`invalid_payload`, `no_service`, `channel_not_found`...) come back as the body.
 */

export const MAX_PER_MESSAGE = 45
const HEADER_MAX = 150
const SECTION_MAX = 3000
const FALLBACK_MAX = 3000

export const slackConfig = z.object({
  ...networkOptions,
  url: z.url({error: 'must be the incoming webhook URL (https://hooks.slack.com/services/...)', protocol: /^https?$/}),
})

export type SlackConfig = z.infer<typeof slackConfig>

function section(message: AlertMessage, consoleUrl: string | undefined) {
  const service = message.details.service ? ` · ${escapeMrkdwn(`${String(message.details.service)}/${String(message.details.label ?? 'default')}`)}` : ''
  const text = `${SEVERITY_MARK[message.severity]} *${escapeMrkdwn(message.tenantName)}* (\`${escapeMrkdwn(message.tenantId)}\`, ${escapeMrkdwn(message.workspace)})${service}\n${escapeMrkdwn(headline(message))}`
  const link = message.kind === 'resolved' ? undefined : consoleLink(consoleUrl, message)
  return {
    text: {text: truncateMrkdwn(text, SECTION_MAX), type: 'mrkdwn'},
    type: 'section',
    ...(link
      ? {accessory: {text: {text: message.details.service ? 'Rotate credential' : 'Open tenant', type: 'plain_text'}, type: 'button', url: link}}
      : {}),
  }
}

/**
 * The JSON body of one message; exported for the tests of its limits. The top-level `text`
 * is what notifications and old clients show, and Slack reads it as mrkdwn too: it is
 * escaped like the blocks.
 */
export function slackMessage(delivery: Delivery): Record<string, unknown> {
  const title = digestTitle(delivery.messages)
  const fallback = escapeMrkdwn([title, ...delivery.messages.map((message) => `• ${headline(message)}`)].join('\n'))
  return {
    blocks: [
      {text: {emoji: true, text: truncate(title, HEADER_MAX), type: 'plain_text'}, type: 'header'},
      ...delivery.messages.map((message) => section(message, delivery.consoleUrl)),
      {elements: [{text: `synthex · run ${delivery.runId.slice(0, 8)}`, type: 'mrkdwn'}], type: 'context'},
    ],
    text: truncateMrkdwn(fallback, FALLBACK_MAX),
  }
}

export class SlackNotifier extends ConfiguredNotifier<SlackConfig> {
  readonly maxPerRequest = MAX_PER_MESSAGE
  readonly type = 'slack'

  override groupKey(message: AlertMessage, runId: string): string {
    return `${runId}|${message.severity}`
  }

  async send(delivery: Delivery, signal: AbortSignal): Promise<DeliveryReceipt> {
    const answer = await post(this.config.url, JSON.stringify(slackMessage(delivery)), {policy: policyOf(this.config), signal})
    return {response: `${answer.status} ${excerpt(answer.body)}`.trim()}
  }
}
