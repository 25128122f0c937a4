import {TenantStatusCommand} from '../../../cli/tenant-status-command.js'
import {example} from '../../../cli/example.js'

export default class TenantsActivate extends TenantStatusCommand {
  static override aliases = ['tenants:activate']
  static override description = 'Sets a tenant\'s status to active, from suspended or inactive.'
  static override examples = [
    example('acme-us', 'Reactivate a suspended tenant.'),
    example('acme-us --json', 'With a JSON result (changed: false if it was already active).'),
  ]

  static override summary = 'Activate a tenant.'
  protected readonly pastTense = 'Activated'
  protected readonly targetStatus = 'active' as const
}
