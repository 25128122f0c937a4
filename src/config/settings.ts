import {homedir, userInfo} from 'node:os'
import {join, resolve} from 'node:path'

import * as z from 'zod/mini'

import {ConfigError} from './config-error.js'
import {parseDuration} from '../domain/durations.js'

/** Where the data lives: the embedded PGlite directory, or a Postgres server. */
export type DatabaseTarget =
  | {readonly dataDir: string; readonly home: string; readonly kind: 'embedded'; readonly lockTimeoutMs: number}
  | {readonly kind: 'server'; readonly limits?: DatabaseLimits; readonly setting: string; readonly url: string}

/**
 * How long synthex waits on a Postgres server, so that a server or network that stops
 * answering ends a command with an error instead of hanging it (and piling up cron runs).
 */
export interface DatabaseLimits {
  /** To connect and log in (`SYNTHEX_DB_CONNECT_TIMEOUT`). */
  readonly connectTimeoutMs: number
  /** One statement of bulk work, an import's chunk or a migration (`SYNTHEX_DB_BULK_STATEMENT_TIMEOUT`). */
  readonly bulkStatementTimeoutMs: number
  /** One statement of any other command (`SYNTHEX_DB_STATEMENT_TIMEOUT`). */
  readonly statementTimeoutMs: number
}

/** The limits when no variable sets them; a server target without `limits` uses these. */
export const DEFAULT_DATABASE_LIMITS: DatabaseLimits = {
  bulkStatementTimeoutMs: 5 * 60_000,
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
}

export interface Settings {
  /** Who is acting, for the audit trail: `SYNTHEX_ACTOR`, else the OS user. */
  readonly actor: string
  readonly database: DatabaseTarget
  /** Colour is allowed by the environment (`NO_COLOR`, `CI`, `--no-color`); TTY-ness is decided by the output. */
  readonly colorAllowed: boolean
  readonly debug: boolean
  /** Running under a CI system (`CI` set): never prompt, no spinners. */
  readonly isCI: boolean
  readonly workspace: string
  /** The workspace was chosen (--workspace or SYNTHEX_WORKSPACE), not the default. */
  readonly workspaceChosen: boolean
}

/** Values of the global flags, which win over the environment. */
export interface GlobalFlagValues {
  readonly color?: boolean
  readonly databaseUrl?: string
  readonly workspace?: string
}

const DEFAULT_LOCK_TIMEOUT_MS = 10_000

const postgresUrl = z.string().check(
  z.refine(
    (value) => {
      try {
        const {protocol} = new URL(value)
        return protocol === 'postgres:' || protocol === 'postgresql:'
      } catch {
        return false
      }
    },
    {error: (issue) => `expected a postgres:// or postgresql:// URL, got ${describeScheme(String(issue.input))}`},
  ),
)

const workspaceSlug = z.string().check(z.maxLength(64, {error: 'expected a workspace slug of at most 64 characters'}))

const duration = z.pipe(
  z.string().check(
    z.refine((text) => parseDuration(text) !== undefined, {
      error: (issue) => `expected a duration such as 10s, 2m or 500ms, got "${String(issue.input)}"`,
    }),
  ),
  z.transform((text) => parseDuration(text) as number),
)

/** Validates one setting's value with zod, naming the variable or flag when it is wrong. */
function validate<T extends z.ZodMiniType>(schema: T, value: unknown, setting: string, hint?: string): z.output<T> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw new ConfigError(setting, result.error.issues[0]?.message ?? 'invalid value', hint)
}

/** Empty variables (`DATABASE_URL=`) count as unset, as in most shells' `${VAR:-default}`. */
function env(source: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = source[name]
  return value === undefined || value.trim() === '' ? undefined : value
}

function describeScheme(value: string): string {
  const match = /^([a-z][\w+.-]*):/i.exec(value)
  return match ? `a "${match[1]}:" URL` : 'a value that is not a URL'
}

function databaseTarget(source: NodeJS.ProcessEnv, flags: GlobalFlagValues): DatabaseTarget {
  // Most specific first: a flag, then synthex's own variable, then the generic one that an
  // application's environment may already set for something else. Only the one chosen is
  // validated: a MySQL DATABASE_URL beside a SYNTHEX_DATABASE_URL is not our business.
  const candidates: Array<[string, string | undefined]> = [
    ['--database-url', flags.databaseUrl?.trim() === '' ? undefined : flags.databaseUrl],
    ['SYNTHEX_DATABASE_URL', env(source, 'SYNTHEX_DATABASE_URL')],
    ['DATABASE_URL', env(source, 'DATABASE_URL')],
  ]
  const chosen = candidates.find(([, value]) => value !== undefined)
  if (chosen) {
    const [setting, value] = chosen
    const url = validate(
      postgresUrl,
      value,
      setting,
      'Example: postgres://user@db.example.com:5432/synthex?sslmode=require; leave it unset to use the embedded database.',
    )
    return {kind: 'server', limits: databaseLimits(source), setting, url}
  }

  const home = resolve(env(source, 'SYNTHEX_HOME') ?? join(homedir(), '.synthex'))
  const timeout = env(source, 'SYNTHEX_LOCK_TIMEOUT')
  const lockTimeoutMs = timeout === undefined ? DEFAULT_LOCK_TIMEOUT_MS : validate(duration, timeout, 'SYNTHEX_LOCK_TIMEOUT')
  return {dataDir: join(home, 'pgdata'), home, kind: 'embedded', lockTimeoutMs}
}

/** The outbound address policy's opt-outs for the channels the environment defines (SLACK_WEBHOOK_URL...). */
export interface NetworkSettings {
  /** SYNTHEX_ALLOW_HTTP: plain http:// provider URLs. */
  readonly allowHttp: boolean
  /** SYNTHEX_ALLOW_PRIVATE_NETWORK: provider addresses inside the network (loopback, private, link-local). */
  readonly allowPrivateNetwork: boolean
}

const flag = z.pipe(
  z.string().check(
    z.refine((text) => /^(1|true|yes|on|0|false|no|off)$/i.test(text.trim()), {
      error: 'expected 1 or 0 (or true, false, yes, no, on, off)',
    }),
  ),
  z.transform((text) => /^(1|true|yes|on)$/i.test(text.trim())),
)

/** Reads SYNTHEX_ALLOW_HTTP and SYNTHEX_ALLOW_PRIVATE_NETWORK; unset or empty is off. */
export function networkSettings(source: NodeJS.ProcessEnv = process.env): NetworkSettings {
  const read = (name: string): boolean => {
    const value = env(source, name)
    return value === undefined ? false : validate(flag, value, name)
  }

  return {allowHttp: read('SYNTHEX_ALLOW_HTTP'), allowPrivateNetwork: read('SYNTHEX_ALLOW_PRIVATE_NETWORK')}
}

/** A duration variable that must be positive: a zero timeout would mean "wait for ever" to Postgres. */
function positiveDuration(source: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env(source, name)
  if (text === undefined) return fallback
  const value = validate(duration, text, name)
  if (value < 1) throw new ConfigError(name, `expected a duration above zero, got "${text}"`)
  return value
}

function databaseLimits(source: NodeJS.ProcessEnv): DatabaseLimits {
  return {
    bulkStatementTimeoutMs: positiveDuration(source, 'SYNTHEX_DB_BULK_STATEMENT_TIMEOUT', DEFAULT_DATABASE_LIMITS.bulkStatementTimeoutMs),
    connectTimeoutMs: positiveDuration(source, 'SYNTHEX_DB_CONNECT_TIMEOUT', DEFAULT_DATABASE_LIMITS.connectTimeoutMs),
    statementTimeoutMs: positiveDuration(source, 'SYNTHEX_DB_STATEMENT_TIMEOUT', DEFAULT_DATABASE_LIMITS.statementTimeoutMs),
  }
}

function osUser(): string | undefined {
  try {
    return userInfo().username
  } catch {
    // No passwd entry (containers running as an arbitrary uid).
    return undefined
  }
}

/**
 * Reads synthex's settings from the environment and the global flags, validating each
 * and naming the variable or flag at fault. Never echoes a database URL: it may hold a
 * password.
 */
export function loadSettings(source: NodeJS.ProcessEnv = process.env, flags: GlobalFlagValues = {}): Settings {
  const workspace = validate(
    workspaceSlug,
    flags.workspace ?? env(source, 'SYNTHEX_WORKSPACE') ?? 'default',
    flags.workspace === undefined ? 'SYNTHEX_WORKSPACE' : '--workspace',
  )

  const actor = env(source, 'SYNTHEX_ACTOR') ?? osUser() ?? env(source, 'USER') ?? 'unknown'
  const isCI = env(source, 'CI') !== undefined && source.CI !== 'false' && source.CI !== '0'
  return {
    actor: actor.slice(0, 200),
    colorAllowed: flags.color !== false && env(source, 'NO_COLOR') === undefined && !isCI,
    database: databaseTarget(source, flags),
    debug: env(source, 'DEBUG') !== undefined,
    isCI,
    workspace,
    workspaceChosen: flags.workspace !== undefined || env(source, 'SYNTHEX_WORKSPACE') !== undefined,
  }
}
