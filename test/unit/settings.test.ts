import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ConfigError} from '../../src/config/config-error.js'
import {formatDuration, parseDuration} from '../../src/domain/durations.js'
import {loadSettings} from '../../src/config/settings.js'

function configError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }

  throw new Error('expected a ConfigError')
}

describe('settings', () => {
  it('defaults to the embedded database in $SYNTHEX_HOME, workspace "default", a 10 s lock timeout', () => {
    const settings = loadSettings({SYNTHEX_HOME: '/data/sx', USER: 'ci'})
    expect(settings.database).toEqual({dataDir: join('/data/sx', 'pgdata'), home: '/data/sx', kind: 'embedded', lockTimeoutMs: 10_000})
    expect(settings.workspace).toBe('default')
  })

  it('prefers --database-url, then SYNTHEX_DATABASE_URL, then DATABASE_URL', () => {
    const env = {DATABASE_URL: 'postgres://a/a', SYNTHEX_DATABASE_URL: 'postgresql://b/b'}
    expect(loadSettings(env, {databaseUrl: 'postgres://c/c'}).database).toMatchObject({setting: '--database-url', url: 'postgres://c/c'})
    expect(loadSettings(env).database).toMatchObject({setting: 'SYNTHEX_DATABASE_URL', url: 'postgresql://b/b'})
    expect(loadSettings({DATABASE_URL: 'postgres://a/a'}).database).toMatchObject({setting: 'DATABASE_URL'})
  })

  it('names the variable and what it expects when a database URL is not postgres, without echoing it', () => {
    const error = configError(() => loadSettings({DATABASE_URL: 'mysql://root:hunter2@db/app'}))
    expect(error.setting).toBe('DATABASE_URL')
    expect(error.kind).toBe('usage')
    expect(error.message).toBe('Invalid DATABASE_URL: expected a postgres:// or postgresql:// URL, got a "mysql:" URL.')
    expect(error.message + (error.hint ?? '')).not.toContain('hunter2')
    expect(configError(() => loadSettings({SYNTHEX_DATABASE_URL: 'not a url'})).message).toContain('SYNTHEX_DATABASE_URL')
  })

  it('ignores a non-postgres DATABASE_URL when synthex has its own', () => {
    expect(loadSettings({DATABASE_URL: 'mysql://app/db', SYNTHEX_DATABASE_URL: 'postgres://sx/db'}).database).toMatchObject({url: 'postgres://sx/db'})
  })

  it('treats empty variables as unset', () => {
    expect(loadSettings({DATABASE_URL: '', SYNTHEX_HOME: '/h', SYNTHEX_WORKSPACE: ''}).database.kind).toBe('embedded')
  })

  it('reads SYNTHEX_LOCK_TIMEOUT as a duration and rejects a bare number', () => {
    expect(loadSettings({SYNTHEX_HOME: '/h', SYNTHEX_LOCK_TIMEOUT: '2m'}).database).toMatchObject({lockTimeoutMs: 120_000})
    expect(configError(() => loadSettings({SYNTHEX_HOME: '/h', SYNTHEX_LOCK_TIMEOUT: '10'})).message).toBe(
      'Invalid SYNTHEX_LOCK_TIMEOUT: expected a duration such as 10s, 2m or 500ms, got "10".',
    )
  })

  it('bounds every wait on a server database, with limits read from SYNTHEX_DB_*_TIMEOUT', () => {
    expect(loadSettings({DATABASE_URL: 'postgres://a/a'}).database).toMatchObject({
      limits: {bulkStatementTimeoutMs: 300_000, connectTimeoutMs: 10_000, statementTimeoutMs: 30_000},
    })
    const env = {DATABASE_URL: 'postgres://a/a', SYNTHEX_DB_BULK_STATEMENT_TIMEOUT: '20m', SYNTHEX_DB_CONNECT_TIMEOUT: '3s', SYNTHEX_DB_STATEMENT_TIMEOUT: '500ms'}
    expect(loadSettings(env).database).toMatchObject({limits: {bulkStatementTimeoutMs: 1_200_000, connectTimeoutMs: 3000, statementTimeoutMs: 500}})
    expect(configError(() => loadSettings({...env, SYNTHEX_DB_STATEMENT_TIMEOUT: '0s'})).message).toBe('Invalid SYNTHEX_DB_STATEMENT_TIMEOUT: expected a duration above zero, got "0s".')
    expect(configError(() => loadSettings({...env, SYNTHEX_DB_CONNECT_TIMEOUT: '30'})).setting).toBe('SYNTHEX_DB_CONNECT_TIMEOUT')
    // The embedded database has no server to wait for: the variables are not its business.
    expect(loadSettings({SYNTHEX_DB_STATEMENT_TIMEOUT: 'never', SYNTHEX_HOME: '/h'}).database.kind).toBe('embedded')
  })

  it('turns colour off under CI, NO_COLOR or --no-color', () => {
    expect(loadSettings({}).colorAllowed).toBe(true)
    expect(loadSettings({CI: 'true'}).colorAllowed).toBe(false)
    expect(loadSettings({NO_COLOR: '1'}).colorAllowed).toBe(false)
    expect(loadSettings({}, {color: false}).colorAllowed).toBe(false)
  })

  it('takes the actor from SYNTHEX_ACTOR before the OS user', () => {
    expect(loadSettings({SYNTHEX_ACTOR: 'deploy-bot'}).actor).toBe('deploy-bot')
    expect(loadSettings({}).actor).not.toBe('')
  })
})

describe('durations', () => {
  it('parses durations with units and refuses ones without', () => {
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('10s')).toBe(10_000)
    expect(parseDuration('90d')).toBe(90 * 86_400_000)
    expect(parseDuration('1.5h')).toBe(5_400_000)
    expect(parseDuration('10')).toBeUndefined()
    expect(parseDuration('soon')).toBeUndefined()
    expect(parseDuration('-5s')).toBeUndefined()
    expect(formatDuration(10_000)).toBe('10s')
  })

  it('says a duration exactly, in the largest unit a flag takes that divides it: 1d, never 1440 min; 90m, never 2h', () => {
    expect([86_400_000, 5_400_000, 129_600_000, 60_000, 1500, 0].map((ms) => formatDuration(ms))).toEqual(['1d', '90m', '36h', '1m', '1500ms', '0s'])
    for (const text of ['1d', '90m', '36h', '45s', '7d']) expect(formatDuration(parseDuration(text) as number)).toBe(text)
  })
})
