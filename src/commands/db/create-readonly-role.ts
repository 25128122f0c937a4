import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {rolePassword, rolePasswordFlags} from '../../cli/role-password.js'
import {notOnEmbedded} from '../../cli/server-only.js'
import {urlForRole} from '../../db/postgres-url.js'
import {invalidLoginName, loginExists, loginNameProblem} from '../../services/access/database-login.js'
import {createReadonlyRole, type ReadonlyRole, REPORTING_VIEWS} from '../../services/reporting/readonly-role.js'

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

  static override flags = rolePasswordFlags

  static override readsSecret = true
  static override summary = 'Create a read-only Postgres login for BI tools (the reporting views only).'

  async run(): Promise<ReadonlyRole & {url: null | string}> {
    const target = this.settings.database
    if (target.kind !== 'server') throw notOnEmbedded('`db create-readonly-role` makes a login')
    const {name} = this.args
    const problem = loginNameProblem(name)
    if (problem) throw invalidLoginName(problem)

    const db = await this.db()
    const exists = await loginExists(db, name)
    const password = await rolePassword(this.flags, {canPrompt: this.canPrompt(), exists, name})
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
}
