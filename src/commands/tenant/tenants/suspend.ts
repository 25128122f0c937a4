import {TenantStatusCommand} from '../../../cli/tenant-status-command.js'
import {example} from '../../../cli/example.js'

export default class TenantsSuspend extends TenantStatusCommand {
  static override aliases = ['tenants:suspend']
  static override description = 'Sets a tenant\'s status to suspended: it stays in the fleet and keeps its credentials, but raises no alerts until it is activated again.'
  static override examples = [
    example('acme-us', 'Suspend a tenant (e.g. unpaid invoice).'),
    example('acme-us -w clients --json', 'In another workspace, with a JSON result.'),
  ]

  static override summary = 'Suspend a tenant.'
  protected readonly pastTense = 'Suspended'
  protected readonly targetStatus = 'suspended' as const
}
