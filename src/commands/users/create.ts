import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {userEmailArg, withUserFlagNames, workspaceWithoutTenant} from '../../cli/user-flags.js'
import {reachText} from '../../cli/user-view.js'
import {USER_ROLES} from '../../services/access/roles.js'
import {createUser, type User} from '../../services/users/users.js'

export default class UsersCreate extends BaseCommand<typeof UsersCreate> {
  static override args = {email: userEmailArg}

  static override description = `Creates a user for \`synthex serve\`'s API: keys made with \`synthex api-keys create --user <email>\` act for it, and may do what both their scopes and its role allow.

Roles: a superadmin may do everything and is assigned nothing. An admin looks after the workspaces assigned to it: --workspace assigns one at creation, \`synthex users assign\` more. A client sees and fixes only the tenants assigned to it: --tenant, repeatable, names them, in the workspace given by --workspace (default: SYNTHEX_WORKSPACE, or default).

Addresses are unique whatever their case and kept as typed. Users are never deleted (\`synthex users deactivate\` stops their keys). Audited as user.created, and user.assigned for each assignment.`

  static override examples = [
    example('owner@example.com --role superadmin', 'A platform owner, who sees everything.'),
    example('am@agency.example --role admin --workspace acme-eu', 'An account manager looking after workspace acme-eu.'),
    example('ops@acme.example --role client --tenant acme-shop --tenant acme-gmc --workspace acme-eu', 'A merchant holding its Shopify shop and its Merchant Center account, both tenants of workspace acme-eu.'),
    example('ops@acme.example --role client --json', 'A client with no tenant yet (assign its tenants later), the result as JSON.'),
  ]

  static override flags = {
    role: Flags.string({description: 'What the user may do: superadmin (everything), admin (its workspaces), client (its tenants).', options: [...USER_ROLES], required: true}),
    tenant: Flags.string({
      description: "A client's tenant, by tenant id; repeat for several. They are in the workspace given by --workspace (default: SYNTHEX_WORKSPACE, or default).",
      helpValue: '<tenant-id>',
      multiple: true,
    }),
  }

  static override summary = 'Create a user (superadmin, admin or client).'

  async run(): Promise<User> {
    const {email} = this.args
    const role = this.flags.role as (typeof USER_ROLES)[number]
    const tenants = this.flags.tenant ?? []
    // With a client, --workspace (or SYNTHEX_WORKSPACE) is where its tenants are; otherwise
    // only an explicit --workspace assigns one, as with `api-keys create`.
    if (role === 'client' && tenants.length === 0 && this.flags.workspace !== undefined) throw workspaceWithoutTenant(email)
    const user = await withUserFlagNames(async () =>
      createUser(await this.db(), this.audit, {
        email,
        role,
        tenants: tenants.map((tenantId) => ({tenantId, workspace: this.settings.workspace})),
        workspaces: role === 'client' || this.flags.workspace === undefined ? [] : [this.flags.workspace],
      }),
    )
    const reachesNothing = user.role !== 'superadmin' && user.workspaces.length === 0 && user.tenants.length === 0
    this.output.success(`Created ${user.role} ${user.email}${user.role === 'superadmin' || reachesNothing ? '' : `, reaching ${reachText(user)}`}.`)
    if (reachesNothing) {
      this.output.info(`It reaches nothing yet: assign it ${user.role === 'admin' ? 'a workspace' : 'tenants'} with \`synthex users assign ${user.email} ${user.role === 'admin' ? '--workspace <slug>' : '--tenant <tenant-id>'}\`.`)
    }

    this.output.info(`Make it a key with \`synthex api-keys create <name> --user ${user.email} --scopes ...\`.`)
    return user
  }
}
