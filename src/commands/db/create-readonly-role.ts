import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {readSecret} from '../../cli/secret-input.js'
import {notOnEmbedded} from '../../cli/server-only.js'
import {urlForRole} from '../../db/postgres-url.js'
import {scramSha256Verifier} from '../../crypto/scram-verifier.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {
  createReadonlyRole,
  type ReadonlyRole,
  readonlyRoleExists,
  readonlyRoleNameProblem,
  readonlyRolePasswordProblem,
  REPORTING_VIEWS,
  type RolePassword,
} from '../../services/reporting/readonly-role.js'

const SOURCES = ['password-stdin', 'from-env', 'from-file', 'no-password'] as const
const others = (flag: (typeof SOURCES)[number]): string[] => SOURCES.filter((source) => source !== flag)

export default class DbCreateReadonlyRole extends BaseCommand<typeof DbCreateReadonlyRole> {
  static override args = {
    name: Args.string({description: 'The role: 1-63 lower-case letters, digits and _, e.g. metabase.', required: true}),
  }

  static override description = `Creates a Postgres login for Metabase, Tableau or psql that may connect to synthex's database and read the reporting views (${REPORTING_VIEWS.map((view) => `reporting.${view}`).join(', ')}) and nothing else: no table, so never a credential's ciphertext, a channel's secret or an API key's hash. Its search_path is reporting and its transactions are read-only by default. Only on a Postgres server (the embedded database has no logins).

The password is read from standard input (--password-stdin), a file (--from-file) or an environment variable (--from-env), or asked for on a terminal; never from the command line. Only its SCRAM-SHA-256 verifier is sent to the server, so it appears in no server log. --no-password makes a role without one, for servers that trust local connections or authenticate otherwise (peer, cert, LDAP).

Running it again for the same role brings its grants back to exactly these (anything granted to it by hand on synthex's tables is taken back) and sets the password given, or keeps the one it has. A role that exists and is more than a reader (a superuser, one that may create roles or databases, owns tables, or belongs to other roles) is refused, and so is a role that could still reach a table through PUBLIC. Run it as the user that ran \`synthex db migrate\` if it may create roles (CREATEROLE), or as a superuser.`

  static override examples = [
    {command: 'printf %s "$METABASE_DB_PASSWORD" | <%= config.bin %> <%= command.id %> metabase --password-stdin', description: 'A login for Metabase, the password from a variable through stdin.'},
    example('tableau --from-env TABLEAU_DB_PASSWORD', 'A login for Tableau, the password from an environment variable.'),
    example('analyst', 'On a terminal: asks for the password.'),
    example('grafana_sql --no-password', 'A role without a password, for a server that trusts local connections.'),
    example('metabase --json', 'Bring an existing role\'s grants up to date; its password is kept.'),
  ]

  static override flags = {
    'from-env': Flags.string({description: 'Read the password from this environment variable.', exclusive: others('from-env'), helpValue: '<NAME>'}),
    'from-file': Flags.string({description: 'Read the password from this file.', exclusive: others('from-file'), helpValue: '<path>'}),
    'no-password': Flags.boolean({description: 'No password (on an existing role: remove it), for servers that authenticate otherwise.', exclusive: others('no-password')}),
    'password-stdin': Flags.boolean({description: 'Read the password from standard input.', exclusive: others('password-stdin')}),
  }

  static override readsSecret = true
  static override summary = 'Create a read-only Postgres login for BI tools (the reporting views only).'

  async run(): Promise<ReadonlyRole & {url: null | string}> {
    const target = this.settings.database
    if (target.kind !== 'server') throw notOnEmbedded('`db create-readonly-role` makes a login')
    const {name} = this.args
    const problem = readonlyRoleNameProblem(name)
    if (problem) throw new SynthexError(`Invalid role name: ${problem}; what was typed is not repeated.`, {code: 'INVALID_ROLE_NAME', kind: 'usage'})

    const db = await this.db()
    const exists = await readonlyRoleExists(db, name)
    const password = await this.password(name, exists)
    const role = await createReadonlyRole(db, this.audit, {name, password})
    const url = urlForRole(target.url, name) ?? null
    if (!this.jsonEnabled()) {
      const said = {none: 'without a password', set: 'with the password given', unchanged: 'its password unchanged'}[role.password]
      this.output.success(`${role.created ? 'Created' : 'Updated'} the read-only role ${role.role} (${said}).`)
      this.output.info(`It may connect to ${role.database} and read ${role.views.join(', ')}; nothing else.`)
      if (url) this.output.info(`Connect with ${url}`)
      for (const warning of role.warnings) this.output.warn(warning)
    }

    return {...role, url}
  }

  /** The flags' password, or a prompt on a terminal for a new role; an existing role keeps its own. */
  private async password(name: string, exists: boolean): Promise<RolePassword> {
    const flags = this.flags
    if (flags['no-password']) return {kind: 'none'}
    const given = flags['password-stdin'] || flags['from-env'] !== undefined || flags['from-file'] !== undefined
    if (!given && exists) return {kind: 'keep'}
    if (!given && !this.canPrompt()) {
      throw new SynthexError(`No password given for the new role ${name}.`, {
        code: 'SECRET_INPUT',
        hint: 'Pass it with --password-stdin, --from-env <NAME> or --from-file <path> (never on the command line), or --no-password when the server authenticates otherwise.',
        kind: 'usage',
      })
    }

    const secret = await readSecret(
      {'from-env': flags['from-env'], 'from-file': flags['from-file'], 'value-stdin': flags['password-stdin']},
      {canPrompt: this.canPrompt(), prompt: `Password for ${name}: `},
    )
    const problem = readonlyRolePasswordProblem(secret)
    if (problem) throw new SynthexError(`The password cannot be used: ${problem}.`, {code: 'SECRET_INPUT', kind: 'usage'})
    return {kind: 'set', verifier: scramSha256Verifier(secret)}
  }
}
