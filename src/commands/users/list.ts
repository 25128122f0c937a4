import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'
import {USER_COLUMNS} from '../../cli/user-view.js'
import {USER_ROLES, type UserRole} from '../../services/access/roles.js'
import {listUsers, type User} from '../../services/users/users.js'

export default class UsersList extends BaseCommand<typeof UsersList> {
  static override description =
    'Lists the users of `synthex serve`\'s API by address: role, what each reaches (an admin\'s workspaces, a client\'s tenants with their workspace in brackets), how many of its keys still work, who created it and when, and whether it is deactivated. --json gives workspaces and tenants as lists.'

  static override examples = [
    example('', 'Every user.'),
    example('--role client', 'Clients only.'),
    example('--json | jq -r \'.users[] | select(.deactivatedAt == null and .role == "admin") | .email\'', 'The addresses of active admins.'),
  ]

  static override flags = {
    csv: csvFlag(),
    role: Flags.string({description: 'Only users with this role.', options: [...USER_ROLES]}),
  }

  static override summary = 'List users, their roles and what they reach.'

  async run(): Promise<{users: User[]}> {
    const role = this.flags.role as undefined | UserRole
    const users = await listUsers(await this.db(), {role})
    if (!this.jsonEnabled()) {
      this.output.list(users, USER_COLUMNS, {
        csv: this.flags.csv,
        empty: role ? `No ${role} users.` : 'No users yet. Create one with `synthex users create <email> --role superadmin|admin|client`.',
      })
    }

    return {users}
  }
}
