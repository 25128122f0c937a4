import {networkSettings, type NetworkSettings} from './settings.js'

/**
 * The process environment is read in src/config/ and nowhere else. The rest of synthex takes
 * the typed values these functions return (each takes the environment as an argument, so a
 * test can pass its own, and defaults to this process's).
 */

export type Environment = Readonly<Record<string, string | undefined>>

/** This process's environment. */
export function currentEnvironment(): Environment {
  return process.env
}

/** A variable's value, trimmed; unset and blank (`VAR=`) are both undefined, as `${VAR:-}` treats them. */
export function variable(name: string, source: Environment = currentEnvironment()): string | undefined {
  return source[name]?.trim() || undefined
}

/** A variable's value exactly as set (a secret given with --from-env, whose spaces may matter). */
export function rawVariable(name: string, source: Environment = currentEnvironment()): string | undefined {
  return source[name]
}

/** The channels the environment defines: SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY, SENDGRID_API_KEY, SMTP_URL, with their settings. */
export interface ChannelEnvironment {
  /** SYNTHEX_EMAIL_FROM. */
  readonly emailFrom?: string
  /** SYNTHEX_EMAIL_TO, comma-separated. */
  readonly emailTo?: readonly string[]
  /** SYNTHEX_ALLOW_HTTP and SYNTHEX_ALLOW_PRIVATE_NETWORK. */
  readonly network: NetworkSettings
  /** PAGERDUTY_EVENTS_URL: also the default for `channels add --type pagerduty`. */
  readonly pagerdutyEventsUrl?: string
  readonly pagerdutyRoutingKey?: string
  readonly sendgridApiKey?: string
  /** SENDGRID_API_URL: also the default for `channels add --type sendgrid`. */
  readonly sendgridApiUrl?: string
  readonly slackWebhookUrl?: string
  readonly smtpUrl?: string
}

export function channelEnvironment(source: Environment = currentEnvironment()): ChannelEnvironment {
  const read = (name: string): string | undefined => variable(name, source)
  return {
    emailFrom: read('SYNTHEX_EMAIL_FROM'),
    emailTo: read('SYNTHEX_EMAIL_TO')?.split(',').map((address) => address.trim()).filter(Boolean),
    network: networkSettings(source),
    pagerdutyEventsUrl: read('PAGERDUTY_EVENTS_URL'),
    pagerdutyRoutingKey: read('PAGERDUTY_ROUTING_KEY'),
    sendgridApiKey: read('SENDGRID_API_KEY'),
    sendgridApiUrl: read('SENDGRID_API_URL'),
    slackWebhookUrl: read('SLACK_WEBHOOK_URL'),
    smtpUrl: read('SMTP_URL'),
  }
}

/** SYNTHEX_ENCRYPTION_KEY (encrypts and decrypts) and SYNTHEX_ENCRYPTION_KEYS (decrypt only, for rotation), as set. */
export interface KeyEnvironment {
  readonly encryptionKey?: string
  readonly encryptionKeys?: string
}

export function keyEnvironment(source: Environment = currentEnvironment()): KeyEnvironment {
  return {encryptionKey: source.SYNTHEX_ENCRYPTION_KEY, encryptionKeys: source.SYNTHEX_ENCRYPTION_KEYS}
}

/** Where DogStatsD datagrams go: DATADOG_AGENT_HOST (+ DD_DOGSTATSD_PORT, default 8125), or nowhere. */
export interface DogStatsdTarget {
  readonly host: string
  readonly port: number
}

export function dogstatsdTarget(source: Environment = currentEnvironment()): DogStatsdTarget | undefined {
  const host = variable('DATADOG_AGENT_HOST', source)
  if (!host) return undefined
  const port = Number(source.DD_DOGSTATSD_PORT ?? 8125)
  return {host, port: Number.isInteger(port) && port > 0 && port < 65_536 ? port : 8125}
}

/** Basic auth for `metrics --push`, kept out of argv: SYNTHEX_PUSHGATEWAY_USER and SYNTHEX_PUSHGATEWAY_PASSWORD. */
export function pushgatewayCredentials(source: Environment = currentEnvironment()): {password?: string; user?: string} {
  return {password: source.SYNTHEX_PUSHGATEWAY_PASSWORD, user: source.SYNTHEX_PUSHGATEWAY_USER}
}

/** SYNTHEX_CONSOLE_URL: the operator console's base URL, for links in notifications. */
export function consoleUrl(source: Environment = currentEnvironment()): string | undefined {
  return variable('SYNTHEX_CONSOLE_URL', source)
}

/** SYNTHEX_HEARTBEAT_URL: the dead-man's switch `alerts check-now` pings (a secret: never printed). */
export function heartbeatUrlSetting(source: Environment = currentEnvironment()): string | undefined {
  return variable('SYNTHEX_HEARTBEAT_URL', source)
}

/** Colour as the environment allows it, before the flags are read (NO_COLOR, CI). */
export function colorAllowedByEnvironment(source: Environment = currentEnvironment()): boolean {
  return source.NO_COLOR === undefined && source.CI === undefined
}

/** `PORT`, as platforms (Heroku, Render, Cloud Run) set it for the process to listen on; `serve --port` wins. */
export function portSetting(source: Environment = currentEnvironment()): string | undefined {
  return variable('PORT', source)
}

/** `SHOPIFY_WEBHOOK_SECRET`: the app's webhook signing secrets, comma-separated (the old and the new one during a rotation). */
export function shopifyWebhookSecrets(source: Environment = currentEnvironment()): string[] {
  return (rawVariable('SHOPIFY_WEBHOOK_SECRET', source) ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret !== '')
}

/** `SYNTHEX_API_RATE_LIMIT`: requests a minute each API key may make to `serve` (default 1200). */
export function apiRateLimitSetting(source: Environment = currentEnvironment()): string | undefined {
  return variable('SYNTHEX_API_RATE_LIMIT', source)
}

/**
 * Where `credentials verify` calls the providers (and `health check --deep` probes them),
 * and what it requires of them. The URLs
 * point every call at stand-ins, for tests and proxies; the defaults are the providers' own.
 */
export interface ProviderEnvironment {
  /** SYNTHEX_GOOGLE_API_URL: the Merchant API's base (default https://merchantapi.googleapis.com). */
  readonly googleApiUrl: string
  /** SYNTHEX_GOOGLE_SCOPES, comma- or space-separated: the OAuth scopes asked for and required (default the Content API scope). */
  readonly googleScopes: readonly string[]
  /** SYNTHEX_GOOGLE_TOKEN_URL: the OAuth token endpoint (default https://oauth2.googleapis.com/token); a service account key's own token_uri is not followed, so a key cannot send its signed assertion elsewhere. */
  readonly googleTokenUrl: string
  /** SYNTHEX_SHOPIFY_API_URL: the Admin API's base; `{shop}` is replaced by the shop's myshopify.com domain (default https://{shop}). */
  readonly shopifyApiUrl: string
  /** SYNTHEX_SHOPIFY_API_VERSION (default 2026-10). */
  readonly shopifyApiVersion: string
  /** SHOPIFY_SCOPES, comma-separated: the access scopes a shop's token must have been granted (default none). */
  readonly shopifyScopes: readonly string[]
}

export const GOOGLE_CONTENT_SCOPE = 'https://www.googleapis.com/auth/content'

export function providerEnvironment(source: Environment = currentEnvironment()): ProviderEnvironment {
  const list = (name: string): string[] | undefined => variable(name, source)?.split(/[\s,]+/).filter(Boolean)
  return {
    googleApiUrl: variable('SYNTHEX_GOOGLE_API_URL', source) ?? 'https://merchantapi.googleapis.com',
    googleScopes: list('SYNTHEX_GOOGLE_SCOPES') ?? [GOOGLE_CONTENT_SCOPE],
    googleTokenUrl: variable('SYNTHEX_GOOGLE_TOKEN_URL', source) ?? 'https://oauth2.googleapis.com/token',
    shopifyApiUrl: variable('SYNTHEX_SHOPIFY_API_URL', source) ?? 'https://{shop}',
    shopifyApiVersion: variable('SYNTHEX_SHOPIFY_API_VERSION', source) ?? '2026-10',
    shopifyScopes: list('SHOPIFY_SCOPES') ?? [],
  }
}
