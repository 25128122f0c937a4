import {TenantStatusCommand} from '../../../cli/tenant-status-command.js'

export default class TenantsDeactivate extends TenantStatusCommand {
  static override description = 'Sets a tenant\'s status to inactive: the shop or account is not in use (paused, seasonal, being migrated) but is kept with its history.'
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> acme-us', description: 'Mark a tenant inactive.'},
    {command: '<%= config.bin %> <%= command.id %> acme-us -w clients', description: 'In another workspace.'},
  ]

  static override summary = 'Deactivate a tenant.'
  protected readonly pastTense = 'Deactivated'
  protected readonly targetStatus = 'inactive' as const
}
