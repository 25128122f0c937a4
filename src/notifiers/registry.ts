import * as z from 'zod/mini'

import {ConsoleNotifier} from './console.js'
import type {Notifier, RateLimits} from './notifier.js'
import {PagerDutyNotifier, pagerdutyConfig} from './pagerduty.js'
import {sendgridConfig, SendGridNotifier} from './sendgrid.js'
import {SlackNotifier, slackConfig} from './slack.js'
import {smtpConfig, SmtpNotifier} from './smtp.js'
import {webhookConfig, WebhookNotifier} from './webhook.js'

/**
 * The kinds of channel synthex can send to. A new kind (Microsoft Teams, say) is one new
 * notifier file and one entry here: its configuration schema, which setting is its secret,
 * its rate limits, and how to build it.
 */
export interface ChannelKind {
  /** Build the notifier from a validated configuration. */
  create(config: Record<string, unknown>, limits: RateLimits): Notifier
  readonly description: string
  /** Provider limits: Slack about 1 message/s, PagerDuty about 120 events/min per key. */
  readonly limits: RateLimits
  readonly schema: z.ZodMiniType
  /** The configuration field that is secret (stored sealed, never shown), if any. */
  readonly secretField?: string
  /** What the secret is, for help and prompts. */
  readonly secretName?: string
}

export const CHANNEL_KINDS = {
  console: {
    create: (_config, limits) => new ConsoleNotifier(limits),
    description: 'print alerts on stderr',
    limits: {concurrency: 1, perMinute: 60_000},
    schema: z.object({}),
  },
  pagerduty: {
    create: (config, limits) => new PagerDutyNotifier(pagerdutyConfig.parse(config), limits),
    description: 'PagerDuty Events API v2, one event per alert',
    limits: {concurrency: 2, perMinute: 120},
    schema: pagerdutyConfig,
    secretField: 'routingKey',
    secretName: 'integration (routing) key',
  },
  sendgrid: {
    create: (config, limits) => new SendGridNotifier(sendgridConfig.parse(config), limits),
    description: 'email through SendGrid v3, one digest per run',
    limits: {concurrency: 1, perMinute: 600},
    schema: sendgridConfig,
    secretField: 'apiKey',
    secretName: 'API key',
  },
  slack: {
    create: (config, limits) => new SlackNotifier(slackConfig.parse(config), limits),
    description: 'Slack incoming webhook, a digest per run and severity',
    limits: {concurrency: 1, perMinute: 60},
    schema: slackConfig,
    secretField: 'url',
    secretName: 'webhook URL',
  },
  smtp: {
    create: (config, limits) => new SmtpNotifier(smtpConfig.parse(config), limits),
    description: 'email over SMTP, one digest per run',
    limits: {concurrency: 1, perMinute: 600},
    schema: smtpConfig,
    secretField: 'url',
    secretName: 'SMTP URL (smtp://user:password@host:587)',
  },
  webhook: {
    create: (config, limits) => new WebhookNotifier(webhookConfig.parse(config), limits),
    description: 'JSON POST signed with HMAC-SHA256 (Zapier, Make, n8n)',
    limits: {concurrency: 2, perMinute: 600},
    schema: webhookConfig,
    secretField: 'url',
    secretName: 'webhook URL',
  },
} satisfies Record<string, ChannelKind>

export type ChannelType = keyof typeof CHANNEL_KINDS
export const CHANNEL_TYPES = Object.keys(CHANNEL_KINDS) as ChannelType[]

export function channelKind(type: string): ChannelKind | undefined {
  return (CHANNEL_KINDS as Record<string, ChannelKind>)[type]
}

/** Problems with a channel's configuration, by field; never quoting a value (it may be the secret). */
export function checkChannelConfig(type: string, config: Record<string, unknown>): Array<{field: string; message: string}> {
  const kind = channelKind(type)
  if (!kind) return [{field: 'type', message: `must be one of ${CHANNEL_TYPES.join(', ')}`}]
  const result = kind.schema.safeParse(config)
  if (result.success) return []
  return result.error.issues.map((issue) => ({field: issue.path.join('.') || 'config', message: issue.message}))
}
