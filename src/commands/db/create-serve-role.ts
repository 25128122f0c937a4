import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {rolePassword, rolePasswordFlags} from '../../cli/role-password.js'
import {notOnEmbedded} from '../../cli/server-only.js'
import {urlForRole} from '../../db/postgres-url.js'
import {invalidLoginName, loginExists, loginNameProblem} from '../../services/access/database-login.js'
import {createServeRole, ROW_SECURITY_TABLES, type ServeRole} from '../../services/access/serve-role.js'

export default class DbCreateServeRole extends BaseCommand<typeof DbCreateServeRole> {
  static override args = {
    name: Args.string({description: 'The role: 1-63 lower-case letters, digits and _, e.g. synthex_serve.', required: true}),
  }

  static override description = `Creates the Postgres login for \`synthex serve\`, so that row-level security backs serve's own checks: with each request limited to its caller's reach by policies on ${ROW_SECURITY_TABLES.join(', ')}, a request that forgot a filter still sees only its caller's rows. Postgres applies no policy to a superuser, a role with BYPASSRLS or the tables' owner (the user that ran \`synthex db migrate\`), so serve needs a login that is none of these. The role may read and change the rows of synthex's tables (and read which migrations are applied); it owns nothing, cannot change the schema, and \`db migrate\` stays with the owner. Before anything is committed the database is asked whether the policies bind the role; if not, nothing changes. Only on a Postgres server: the embedded database is one superuser session, so there serve's own checks are the only line.

The password is read from standard input (--password-stdin), a file (--from-file) or an environment variable (--from-env), or asked for on a terminal; never from the command line. Only its SCRAM-SHA-256 verifier is sent to the server, so it appears in no server log. --no-password makes a role without one, for servers that authenticate otherwise (peer, cert, LDAP).

Running it again for the same role brings its grants back to exactly these and sets the password given, or keeps the one it has; run it again after a \`synthex db migrate\` that adds tables. A role that exists and is more than a plain login (a superuser, one that may create roles or databases, bypasses row-level security, owns tables, or belongs to other roles) is refused. Run it as the user that ran \`synthex db migrate\` if it may create roles (CREATEROLE), or as a superuser.`

  static override examples = [
    {command: 'printf %s "$SERVE_DB_PASSWORD" | <%= config.bin %> <%= command.id %> synthex_serve --password-stdin', description: 'The login for serve, the password from a variable through stdin.'},
    example('synthex_serve --from-env SERVE_DB_PASSWORD', 'The same, the password from an environment variable.'),
    example('synthex_serve', 'On a terminal: asks for the password.'),
    example('synthex_serve --json', 'After `db migrate` added tables: bring the role\'s grants up to date; its password is kept.'),
  ]

  static override flags = rolePasswordFlags

  static override readsSecret = true
  static override summary = 'Create the Postgres login serve runs as, bound by row-level security.'

  async run(): Promise<ServeRole & {url: null | string}> {
    const target = this.settings.database
    if (target.kind !== 'server') {
      throw notOnEmbedded(
        '`db create-serve-role` makes a login for row-level security',
        'There `serve` works in one superuser session, so its own checks of each key\'s role and reach are the only line.',
      )
    }

    const {name} = this.args
    const problem = loginNameProblem(name)
    if (problem) throw invalidLoginName(problem)

    const db = await this.db()
    const exists = await loginExists(db, name)
    const password = await rolePassword(this.flags, {canPrompt: this.canPrompt(), exists, name})
    const role = await createServeRole(db, this.audit, {name, password})
    const url = urlForRole(target.url, name) ?? null
    if (!this.jsonEnabled()) {
      const said = {none: 'without a password', set: 'with the password given', unchanged: 'its password unchanged'}[role.password]
      this.output.success(`${role.created ? 'Created' : 'Updated'} the serve role ${role.role} (${said}).`)
      this.output.info(`It may read and change the rows of synthex's ${role.tables.length} tables in ${role.database}, and sees only a request's reach in ${role.rowSecurity.join(', ')}; it cannot change the schema (\`db migrate\` stays with ${role.owner}).`)
      if (url) {
        const withPassword = role.password === 'none' ? url : url.replace('@', ':<password>@')
        this.output.info(`Run serve as it: DATABASE_URL='${withPassword}' ${this.config.bin} serve`)
      }
    }

    return {...role, url}
  }
}
