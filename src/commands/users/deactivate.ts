import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {userEmailArg} from '../../cli/user-flags.js'
import {deactivateUser, type User} from '../../services/users/users.js'

export default class UsersDeactivate extends BaseCommand<typeof UsersDeactivate> {
  static override args = {email: userEmailArg}
  static override description =
    'Deactivates a user: every key acting for it is refused with 401 from its next request on, by every running `synthex serve` (keys and their users are checked on each request, never cached). The user and its keys stay listed, for the audit trail; users are never deleted. Deactivating a deactivated user changes nothing. Audited as user.deactivated.'

  static override examples = [example('ops@acme.example', 'A merchant\'s contact has left: its keys stop at once.'), example('am@agency.example --json', 'From a script; the user (deactivatedAt set) as JSON.')]
  static override summary = "Deactivate a user (its keys stop on their next request)."

  async run(): Promise<User> {
    const user = await deactivateUser(await this.db(), this.audit, this.args.email)
    this.output.success(`Deactivated ${user.role} ${user.email}: its keys are refused from their next request on.`)
    return user
  }
}
