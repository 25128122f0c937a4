import {TenantStatusCommand} from '../../../cli/tenant-status-command.js'

export default class TenantsActivate extends TenantStatusCommand {
  static override description = 'Sets a tenant\'s status to active, from suspended or inactive.'
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> acme-us', description: 'Reactivate a suspended tenant.'},
    {command: '<%= config.bin %> <%= command.id %> acme-us --json', description: 'With a JSON result (changed: false if it was already active).'},
  ]

  static override summary = 'Activate a tenant.'
  protected readonly pastTense = 'Activated'
  protected readonly targetStatus = 'active' as const
}
