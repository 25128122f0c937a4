import {TenantStatusCommand} from '../../../cli/tenant-status-command.js'
import {example} from '../../../cli/example.js'

export default class TenantsDeactivate extends TenantStatusCommand {
  static override aliases = ['tenants:deactivate']
  static override description = 'Sets a tenant\'s status to inactive: the shop or account is not in use (paused, seasonal, being migrated) but is kept with its history.'
  static override examples = [
    example('acme-us', 'Mark a tenant inactive.'),
    example('acme-us -w clients', 'In another workspace.'),
  ]

  static override summary = 'Deactivate a tenant.'
  protected readonly pastTense = 'Deactivated'
  protected readonly targetStatus = 'inactive' as const
}
