import {existsSync} from 'node:fs'
import {homedir} from 'node:os'

import {type DatabaseTarget, loadSettings} from '../config/settings.js'
import {currentEnvironment, type Environment} from '../config/environment.js'
import {redactDatabaseUrl} from '../db/postgres-url.js'

/**
 * The sections synthex adds at the end of the root help (src/cli/help.ts for oclif,
 * src/cli/quick-root-help.ts without it): where the data lives and what to do next, so
 * that a first run is not a dead end. They read only the environment and one directory's
 * existence: help never opens or creates a database.
 */

/** What both print after oclif's root help, line by line, with the help's own formatter. */
export function rootHelpEpilogue(help: {section(header: string, body: string): string; wrap(body: string): string}, bin: string): string[] {
  return [help.section('YOUR DATA', help.wrap(whereDataLives(currentEnvironment()))), '', help.section('GETTING STARTED', gettingStarted(bin)), '']
}

export function whereDataLives(env: Environment): string {
  let database: DatabaseTarget
  try {
    database = loadSettings(env).database
  } catch (error) {
    return (error as Error).message.split('\n')[0] ?? ''
  }

  if (database.kind === 'server') {
    return `A Postgres server, ${redactDatabaseUrl(database.url)} (from ${database.setting}). Run \`synthex db migrate\` once to create or update its schema.`
  }

  const where = tilde(database.dataDir)
  return existsSync(database.dataDir)
    ? `The embedded database in ${where} (SYNTHEX_HOME). To use a Postgres server or Supabase instead, set DATABASE_URL.`
    : `None yet. The first command that needs it creates an embedded database in ${where} (set SYNTHEX_HOME to put it elsewhere), with no server to install. To use a Postgres server or Supabase instead, set DATABASE_URL and run \`synthex db migrate\`.`
}

export function gettingStarted(bin: string): string {
  return [
    'Add tenants, one by one or from a CSV file (its columns: synthex batch tenants create --help):',
    `  $ ${bin} tenant tenants create --tenant-id acme-us --name "Acme US" --type shopify --shopify-shop acme-us.myshopify.com`,
    `  $ ${bin} batch tenants create --from-csv tenants.csv`,
    'Store their API credentials, encrypted, with an expiry:',
    `  $ printf %s "$TOKEN" | ${bin} credentials set acme-us --service shopify --value-stdin --expires-in 90d`,
    'Check the whole setup (in CI, as a deploy gate):',
    `  $ ${bin} health check`,
    `Raise alerts from cron every 5 minutes (to Slack, PagerDuty, email: ${bin} alerts channels add --help):`,
    `  $ ${bin} alerts check-now`,
    '',
    `Every command has --help with examples and takes --json. Shell completion: ${bin} autocomplete.`,
  ].join('\n')
}

function tilde(path: string): string {
  const home = homedir()
  return home && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path
}
