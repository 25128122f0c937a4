import {Flags} from '@oclif/core'

import {TenantChangeCommand, tenantChangeFlags} from '../../../cli/tenant-change-command.js'
import type {TenantStatus} from '../../../db/schema.js'
import {TENANT_STATUSES} from '../../../domain/tenant-fields.js'
import type {TenantChange} from '../../../services/import/tenant-changes.js'
import {example} from '../../../cli/example.js'

const PAST_TENSE: Record<TenantStatus, string> = {active: 'activated', inactive: 'deactivated', suspended: 'suspended'}

export default class BatchTenantsSetStatus extends TenantChangeCommand {
  static override description = `Sets the status of the tenants a CSV file names (a tenant_id column, and optionally workspace; other columns, such as those of an export, are not used) to suspended, inactive or active, as \`synthex tenant tenants suspend|deactivate|activate\` do one by one, each change recorded in the audit trail.

A tenant that does not exist is a rejected row (exit code 3); tenants that already have the status are counted unchanged.`

  static override examples = [
    example('--status suspended --from-csv unpaid.csv', 'Suspend the tenants of unpaid.csv.'),
    {command: '<%= config.bin %> tenant tenants list --all --csv --search legacy | <%= config.bin %> <%= command.id %> --status inactive --from-csv -', description: 'Deactivate every tenant whose id or name contains "legacy".'},
  ]

  static override flags = {
    ...tenantChangeFlags,
    status: Flags.string({description: 'The status to set.', options: [...TENANT_STATUSES], required: true}),
  }

  static override summary = 'Set the status of tenants in bulk from a CSV file.'

  protected get verb(): string {
    return PAST_TENSE[this.status]
  }

  private get status(): TenantStatus {
    return (this.flags as unknown as {status: TenantStatus}).status
  }

  protected change(): TenantChange {
    return {kind: 'status', status: this.status}
  }
}
