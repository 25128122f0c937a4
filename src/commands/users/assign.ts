import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {userEmailArg, withUserFlagNames} from '../../cli/user-flags.js'
import {reachText, tenantText} from '../../cli/user-view.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {assignUser, type User} from '../../services/users/users.js'

export default class UsersAssign extends BaseCommand<typeof UsersAssign> {
  static override args = {email: userEmailArg}

  static override description = `Assigns an admin a workspace, or a client a tenant; what a user already has stays assigned.

--workspace <slug> alone assigns that workspace to an admin. With --tenant <tenant-id>, the tenant is assigned to a client, and --workspace only says which workspace the tenant is in (default: SYNTHEX_WORKSPACE, or default). A superadmin reaches everything and is assigned nothing. Assigning what is already assigned changes nothing. Audited as user.assigned.`

  static override examples = [
    example('am@agency.example --workspace acme-eu', 'The admin now also looks after workspace acme-eu.'),
    example('ops@acme.example --tenant acme-gmc --workspace acme-eu', 'The client now also holds tenant acme-gmc of workspace acme-eu.'),
    example('ops@acme.example --tenant acme-us', 'The client now also holds tenant acme-us of the default workspace (or SYNTHEX_WORKSPACE\'s).'),
  ]

  static override flags = {
    tenant: Flags.string({description: "Assign this tenant (a client's), by tenant id, of the workspace given by --workspace (default: SYNTHEX_WORKSPACE, or default).", helpValue: '<tenant-id>'}),
  }

  static override summary = "Assign an admin a workspace or a client a tenant."

  async run(): Promise<{assigned: boolean; user: User}> {
    const {tenant} = this.flags
    if (tenant === undefined && this.flags.workspace === undefined) {
      throw new SynthexError('Say what to assign: --workspace <slug> (an admin\'s workspace) or --tenant <tenant-id> (a client\'s tenant).', {
        code: 'USAGE',
        hint: 'See `synthex users assign --help` for examples.',
        kind: 'usage',
      })
    }

    const db = await this.db()
    const result = await withUserFlagNames(() =>
      assignUser(db, this.audit, this.args.email, tenant === undefined ? {workspace: this.flags.workspace as string} : {tenant: {tenantId: tenant, workspace: this.settings.workspace}}),
    )
    const what = tenant === undefined ? `workspace ${this.flags.workspace}` : `tenant ${tenantText({tenantId: tenant, workspace: this.settings.workspace})}`
    if (result.assigned) this.output.success(`Assigned ${what} to ${result.user.role} ${result.user.email}, who now reaches ${reachText(result.user)}.`)
    else this.output.info(`${result.user.email} already had ${what}; nothing changed.`)
    return result
  }
}
