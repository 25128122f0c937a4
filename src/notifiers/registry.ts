import {isIP} from 'node:net'

import * as z from 'zod/mini'

import {rangeAddress} from '../net/address-policy.js'
import {refusedAddressOf} from '../net/guarded-lookup.js'
import {hostProblem, outboundUrlProblem} from '../net/outbound-url.js'
import {ConsoleNotifier} from './console.js'
import {policyOf} from './network-options.js'
import type {Notifier, RateLimits} from './notifier.js'
import {PagerDutyNotifier, pagerdutyConfig} from './pagerduty.js'
import {sendgridConfig, SendGridNotifier} from './sendgrid.js'
import {SlackNotifier, slackConfig} from './slack.js'
import {smtpConfig, SmtpNotifier} from './smtp.js'
import {parseSmtpUrl} from './smtp-url.js'
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
  /** The fields holding where it sends: checked against the network policy (src/net/address-policy.ts). */
  readonly endpoints?: readonly string[]
  /** Provider limits: Slack about 1 message/s, PagerDuty about 120 events/min per key. */
  readonly limits: RateLimits
  readonly schema: z.ZodMiniType
  /** The configuration field that is secret (stored sealed, never shown), if any. */
  readonly secretField?: string
  /** What the secret is, for help and prompts. */
  readonly secretName?: string
}

/** A notifier class built from its configuration, validated by its schema. */
function build<Config>(schema: z.ZodMiniType<Config>, Kind: new (config: Config, limits: RateLimits) => Notifier): ChannelKind['create'] {
  return (config, limits) => new Kind(schema.parse(config), limits)
}

export const CHANNEL_KINDS = {
  console: {
    create: (_config, limits) => new ConsoleNotifier(limits),
    description: 'print alerts on stderr',
    limits: {concurrency: 1, perMinute: 60_000},
    schema: z.object({}),
  },
  pagerduty: {
    create: build(pagerdutyConfig, PagerDutyNotifier),
    description: 'PagerDuty Events API v2, one event per alert',
    endpoints: ['eventsUrl'],
    limits: {concurrency: 2, perMinute: 120},
    schema: pagerdutyConfig,
    secretField: 'routingKey',
    secretName: 'integration (routing) key',
  },
  sendgrid: {
    create: build(sendgridConfig, SendGridNotifier),
    description: 'email through SendGrid v3, one digest per run',
    endpoints: ['apiUrl'],
    limits: {concurrency: 1, perMinute: 600},
    schema: sendgridConfig,
    secretField: 'apiKey',
    secretName: 'API key',
  },
  slack: {
    create: build(slackConfig, SlackNotifier),
    description: 'Slack incoming webhook, a digest per run and severity',
    endpoints: ['url'],
    limits: {concurrency: 1, perMinute: 60},
    schema: slackConfig,
    secretField: 'url',
    secretName: 'webhook URL',
  },
  smtp: {
    create: build(smtpConfig, SmtpNotifier),
    description: 'email over SMTP, one digest per run',
    endpoints: ['url'],
    limits: {concurrency: 1, perMinute: 600},
    schema: smtpConfig,
    secretField: 'url',
    secretName: 'SMTP URL (smtp://user:password@host:587)',
  },
  webhook: {
    create: build(webhookConfig, WebhookNotifier),
    description: 'JSON POST signed with HMAC-SHA256 (Zapier, Make, n8n)',
    endpoints: ['url'],
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

/**
 * Problems with a channel's configuration, by field; never quoting a value (it may be the
 * secret). Besides the schema: each endpoint against the network policy, as far as it can
 * be judged without resolving a name (https, no user:password@, no refused literal address).
 */
export function checkChannelConfig(type: string, config: Record<string, unknown>): Array<{field: string; message: string}> {
  const kind = channelKind(type)
  if (!kind) return [{field: 'type', message: `must be one of ${CHANNEL_TYPES.join(', ')}`}]
  const result = kind.schema.safeParse(config)
  if (!result.success) return result.error.issues.map((issue) => ({field: issue.path.join('.') || 'config', message: issue.message}))
  const issues: Array<{field: string; message: string}> = []
  for (const {field, value} of endpointValues(kind, config)) {
    const problem = type === 'smtp' ? smtpProblem(value, config) : outboundUrlProblem(value, policyOf(config))
    if (problem) issues.push({field, message: problem})
  }

  return issues
}

/**
 * For a channel being added: the host names of its endpoints, resolved, against the
 * network policy (a literal address is checked by checkChannelConfig). A name that does not
 * resolve now passes: every connection checks the address it connects to.
 */
export async function checkChannelAddresses(type: string, config: Record<string, unknown>): Promise<Array<{field: string; message: string}>> {
  const kind = channelKind(type)
  if (!kind) return []
  const policy = policyOf(config)
  const issues: Array<{field: string; message: string}> = []
  for (const {field, value} of endpointValues(kind, config)) {
    const host = hostOf(type, value)
    if (host === undefined || isIP(host) !== 0) continue
    const refused = await refusedAddressOf(host, policy)
    if (refused) issues.push({field, message: `its host resolves to ${refused.address}, ${rangeAddress(refused.range)}, inside the network`})
  }

  return issues
}

function endpointValues(kind: ChannelKind, config: Record<string, unknown>): Array<{field: string; value: string}> {
  return (kind.endpoints ?? []).flatMap((field) => (typeof config[field] === 'string' ? [{field, value: config[field]}] : []))
}

function smtpProblem(value: string, config: Record<string, unknown>): string | undefined {
  const endpoint = parseSmtpUrl(value, {strict: true})
  if ('problem' in endpoint) return endpoint.problem
  return hostProblem(endpoint.host, policyOf(config))
}

function hostOf(type: string, value: string): string | undefined {
  if (type === 'smtp') {
    const endpoint = parseSmtpUrl(value)
    return 'problem' in endpoint ? undefined : endpoint.host
  }

  try {
    return new URL(value).hostname.replace(/^\[|\]$/g, '')
  } catch {
    return undefined
  }
}
