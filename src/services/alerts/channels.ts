import type {ChannelEnvironment} from '../../config/environment.js'
import {seal, unseal} from '../../crypto/envelope.js'
import type {Keyring} from '../../crypto/keyring.js'
import type {ChannelRow, Db} from '../../db/schema.js'
import type {Notifier, RateLimits} from '../../notifiers/notifier.js'
import {DEFAULT_EVENTS_URL} from '../../notifiers/pagerduty.js'
import {CHANNEL_TYPES, channelKind, checkChannelAddresses, checkChannelConfig} from '../../notifiers/registry.js'
import {DEFAULT_SENDGRID_URL} from '../../notifiers/sendgrid.js'
import {ConflictError, InvalidInputError, NotFoundError} from '../../errors/input-errors.js'
import {type Audit, recordEvents} from '../events/events.js'
import {type Severity} from '../../domain/severity.js'

/**
 * Where alerts go. Channels are stored (with their secret sealed, like a credential) or
 * defined by the environment (SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY, SENDGRID_API_KEY or
 * SMTP_URL with SYNTHEX_EMAIL_FROM and SYNTHEX_EMAIL_TO). With none at all, alerts go to the
 * console.
 */

export interface ChannelSpec {
  /** Full configuration, secret included: only ever handed to a notifier. */
  readonly config: Record<string, unknown>
  readonly limits: RateLimits
  readonly minSeverity: Severity
  readonly name: string
  readonly source: 'default' | 'environment' | 'stored'
  readonly type: string
  /** The environment variable that defines it, for a channel from the environment. */
  readonly variable?: string
}

/** A channel as it may be shown: everything but the secret. */
export interface ChannelView {
  readonly limits: RateLimits
  readonly minSeverity: Severity
  readonly name: string
  readonly settings: Record<string, unknown>
  readonly source: ChannelSpec['source']
  readonly type: string
}

export interface ChannelInput {
  readonly limits?: Partial<RateLimits>
  readonly minSeverity?: Severity
  readonly name: string
  /** Settings that are not secret (email from/to, endpoint URLs). */
  readonly options: Record<string, unknown>
  /** The secret (webhook URL, routing key, API key, SMTP URL); absent only for console. */
  readonly secret?: string
  /** Secret settings besides the main one (a webhook's signing secret). */
  readonly secretOptions?: Record<string, string>
  readonly type: string
}

const NAME = /^[a-z0-9][\w-]{0,62}$/

function channelAad(name: string, type: string): string {
  return `synthex:channel:v1|name=${name}|type=${type}`
}

function view(spec: ChannelSpec): ChannelView {
  const kind = channelKind(spec.type)
  const secretFields = new Set([kind?.secretField, 'signingSecret'])
  const settings = Object.fromEntries(Object.entries(spec.config).filter(([key]) => !secretFields.has(key)))
  return {limits: spec.limits, minSeverity: spec.minSeverity, name: spec.name, settings, source: spec.source, type: spec.type}
}

function limitsOf(type: string, override?: Partial<RateLimits>): RateLimits {
  const defaults = channelKind(type)?.limits ?? {concurrency: 1, perMinute: 60}
  return {concurrency: override?.concurrency ?? defaults.concurrency, perMinute: override?.perMinute ?? defaults.perMinute}
}

export async function addChannel(db: Db, keyring: Keyring | undefined, audit: Audit, input: ChannelInput): Promise<ChannelView> {
  const kind = channelKind(input.type)
  const issues: Array<{field: string; message: string}> = []
  if (!NAME.test(input.name) || input.name.startsWith('env-')) issues.push({field: 'name', message: 'must be 1-63 lower-case letters, digits, "-" or "_", not starting with "env-"'})
  if (!kind) issues.push({field: 'type', message: `must be one of ${CHANNEL_TYPES.join(', ')}`})
  if (kind?.secretField && !input.secret) issues.push({field: 'secret', message: `is required: the ${kind.secretName}, from --value-stdin, --from-file or --from-env`})
  const secrets: Record<string, string> = {...input.secretOptions}
  if (kind?.secretField && input.secret) secrets[kind.secretField] = input.secret
  if (kind) issues.push(...checkChannelConfig(input.type, {...input.options, ...secrets}))
  if (input.type === 'smtp' && input.options.allowHttp) issues.push({field: 'allowHttp', message: 'does not apply to smtp: add ?tls=none to the SMTP URL to send in clear'})
  for (const [field, value] of Object.entries(input.limits ?? {})) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) issues.push({field, message: 'must be a whole number, 1 or more'})
  }

  // Names are resolved only for a configuration that is otherwise right.
  if (issues.length === 0 && kind) issues.push(...(await checkChannelAddresses(input.type, {...input.options, ...secrets})))
  if (issues.length > 0) throw new InvalidInputError(issues, policyHint(issues, {http: '--allow-http', privateNetwork: '--allow-private-network'}))
  const sealed = Object.keys(secrets).length > 0 && keyring ? seal(keyring, JSON.stringify(secrets), channelAad(input.name, input.type)).value : null
  if (Object.keys(secrets).length > 0 && !sealed) throw new InvalidInputError([{field: 'secret', message: 'cannot be stored without an encryption key'}])

  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('channels')
      .values({
        config: JSON.stringify({limits: input.limits ?? {}, options: input.options}),
        min_severity: input.minSeverity ?? 'info',
        name: input.name,
        secret_ciphertext: sealed,
        type: input.type,
      })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new ConflictError(`A channel named "${input.name}" already exists.`, `Remove it first with \`synthex alerts channels remove ${input.name}\`.`)
    await recordEvents(trx, audit, [
      {aggregateId: input.name, aggregateType: 'channel', data: {minSeverity: row.min_severity, options: input.options, type: input.type}, type: 'channel.added', workspaceId: null},
    ])
    return view(storedSpec(row, input.options, {}))
  })
}

export async function removeChannel(db: Db, audit: Audit, name: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const removed = await trx.deleteFrom('channels').where('name', '=', name).returning('type').executeTakeFirst()
    if (!removed) throw new NotFoundError(`There is no stored channel "${name}".`, 'List them with `synthex alerts channels list`; channels from the environment are removed by unsetting their variables.')
    await recordEvents(trx, audit, [{aggregateId: name, aggregateType: 'channel', data: {type: removed.type}, type: 'channel.removed', workspaceId: null}])
  })
}

/** What allows what an issue refuses: the flags of `channels add`, or the environment's settings. */
function policyHint(issues: ReadonlyArray<{message: string}>, names: {http: string; privateNetwork: string}): string | undefined {
  const http = issues.some((issue) => issue.message.includes('plain http://'))
  const inside = issues.some((issue) => issue.message.includes('inside the network'))
  if (!http && !inside) return undefined
  const allowing = [http ? `${names.http} allows plain http://` : undefined, inside ? `${names.privateNetwork} allows addresses inside the network (loopback, private, link-local)` : undefined]
  return `If that is intended: ${allowing.filter(Boolean).join('; ')}.`
}

function storedSpec(row: ChannelRow, options: Record<string, unknown>, secrets: Record<string, unknown>): ChannelSpec {
  const limits = (row.config.limits ?? {}) as Partial<RateLimits>
  return {config: {...options, ...secrets}, limits: limitsOf(row.type, limits), minSeverity: row.min_severity, name: row.name, source: 'stored', type: row.type}
}

/** Channels defined by the environment; a channel given by environment needs no `channels add`. */
export function environmentChannels(environment: ChannelEnvironment): ChannelSpec[] {
  const {network} = environment
  // Only the opt-outs that are on: they show with the channel's settings in `channels list`.
  const policy = {...(network.allowHttp ? {allowHttp: true} : {}), ...(network.allowPrivateNetwork ? {allowPrivateNetwork: true} : {})}
  const recipients = environment.emailTo
  const channels: ChannelSpec[] = []
  const add = (name: string, type: string, variable: string, config: Record<string, unknown>): void => {
    const opted = type === 'smtp' ? {...(policy.allowPrivateNetwork ? {allowPrivateNetwork: true} : {})} : policy
    channels.push({config: {...config, ...opted}, limits: limitsOf(type), minSeverity: 'info', name, source: 'environment', type, variable})
  }

  const {emailFrom: from, pagerdutyRoutingKey: routingKey, sendgridApiKey: apiKey, slackWebhookUrl: slack, smtpUrl: smtp} = environment
  if (slack) add('env-slack', 'slack', 'SLACK_WEBHOOK_URL', {url: slack})
  if (routingKey) add('env-pagerduty', 'pagerduty', 'PAGERDUTY_ROUTING_KEY', {eventsUrl: environment.pagerdutyEventsUrl ?? DEFAULT_EVENTS_URL, routingKey})
  if (apiKey) add('env-sendgrid', 'sendgrid', 'SENDGRID_API_KEY', {apiKey, apiUrl: environment.sendgridApiUrl ?? DEFAULT_SENDGRID_URL, from, to: recipients})
  if (smtp) add('env-smtp', 'smtp', 'SMTP_URL', {from, to: recipients, url: smtp})
  return channels
}

const CONSOLE: ChannelSpec = {config: {}, limits: limitsOf('console'), minSeverity: 'info', name: 'console', source: 'default', type: 'console'}

/**
 * Every channel alerts go to, secrets opened. A stored channel whose secret does not open
 * fails here, naming the channel; an environment channel with a bad setting is reported by
 * its variable. With no channel at all, the console.
 */
export async function resolveChannels(db: Db, keyring: Keyring | undefined, environment: ChannelEnvironment): Promise<ChannelSpec[]> {
  const rows = await db.selectFrom('channels').selectAll().orderBy('name').execute()
  const stored = rows.map((row) => openStored(row, keyring))
  const fromEnvironment = environmentChannels(environment)
  for (const spec of fromEnvironment) {
    const issues = checkChannelConfig(spec.type, spec.config)
    if (issues.length > 0) {
      throw new InvalidInputError(
        issues.map((issue) => ({field: `${spec.name}.${issue.field}`, message: issue.message})),
        policyHint(issues, {http: 'SYNTHEX_ALLOW_HTTP=1', privateNetwork: 'SYNTHEX_ALLOW_PRIVATE_NETWORK=1'}) ??
          'Check the environment variables of that channel (SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY, SENDGRID_API_KEY, SMTP_URL, SYNTHEX_EMAIL_FROM, SYNTHEX_EMAIL_TO).',
      )
    }
  }

  const all = [...stored, ...fromEnvironment]
  return all.length > 0 ? all : [CONSOLE]
}

export interface ChannelProblem {
  readonly name: string
  readonly reason: string
}

/**
 * Like resolveChannels, for `health check`: the channels that can send, and each one that
 * cannot (a secret the key does not open, an environment variable with a bad value) as a
 * problem rather than an error, so one broken channel does not hide the others.
 */
export async function inspectChannels(db: Db, keyring: () => Keyring | undefined, environment: ChannelEnvironment): Promise<{channels: ChannelSpec[]; problems: ChannelProblem[]}> {
  const rows = await db.selectFrom('channels').selectAll().orderBy('name').execute()
  const channels: ChannelSpec[] = []
  const problems: ChannelProblem[] = []
  for (const row of rows) {
    try {
      channels.push(openStored(row, row.secret_ciphertext ? keyring() : undefined))
    } catch (error) {
      problems.push({name: row.name, reason: error instanceof InvalidInputError ? 'SYNTHEX_ENCRYPTION_KEY is not set' : (error as Error).message.split('\n')[0] ?? ''})
    }
  }

  for (const spec of environmentChannels(environment)) {
    const issues = checkChannelConfig(spec.type, spec.config)
    if (issues.length === 0) channels.push(spec)
    else problems.push({name: spec.name, reason: issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')})
  }

  return {channels, problems}
}

/** A stored channel with its secret opened; throws, naming the channel, when it does not open. */
function openStored(row: ChannelRow, keyring: Keyring | undefined): ChannelSpec {
  let secrets: Record<string, unknown> = {}
  if (row.secret_ciphertext) {
    if (!keyring) throw new InvalidInputError([{field: 'SYNTHEX_ENCRYPTION_KEY', message: `is needed to open the secret of channel "${row.name}"`}])
    secrets = JSON.parse(unseal(keyring, row.secret_ciphertext, channelAad(row.name, row.type), `channel ${row.name}`)) as Record<string, unknown>
  }

  return storedSpec(row, (row.config.options ?? {}) as Record<string, unknown>, secrets)
}

/** Stored and environment channels as they may be shown (no secrets). */
export async function listChannels(db: Db, environment: ChannelEnvironment): Promise<ChannelView[]> {
  const rows = await db.selectFrom('channels').selectAll().orderBy('name').execute()
  const stored = rows.map((row) => view(storedSpec(row, (row.config.options ?? {}) as Record<string, unknown>, {})))
  const all = [...stored, ...environmentChannels(environment).map((spec) => view(spec))]
  return all.length > 0 ? all : [view(CONSOLE)]
}

export function notifierFor(spec: ChannelSpec): Notifier {
  const kind = channelKind(spec.type)
  if (!kind) throw new InvalidInputError([{field: 'type', message: `channel "${spec.name}" has unknown type "${spec.type}"`}])
  return kind.create(spec.config, spec.limits)
}
