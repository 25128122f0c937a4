import type {TenantStatus} from '../db/schema.js'
import {changeTenantStatus, type Tenant} from '../services/tenants/tenants.js'
import {BaseCommand} from './base-command.js'
import {tenantIdArg} from './tenant-flags.js'

export interface TenantStatusResult {
  readonly changed: boolean
  readonly previousStatus: TenantStatus
  readonly tenant: Tenant
}

/** `suspend`, `activate` and `deactivate`: one status change each, recorded in the audit trail. */
export abstract class TenantStatusCommand extends BaseCommand<typeof TenantStatusCommand> {
  static override args = {
    'tenant-id': tenantIdArg,
  }

  protected abstract readonly pastTense: string
  protected abstract readonly targetStatus: TenantStatus

  async run(): Promise<TenantStatusResult> {
    const tenantId = this.args['tenant-id']
    const {changes, tenant} = await changeTenantStatus(await this.db(), await this.workspace(), this.audit, tenantId, this.targetStatus)
    const changed = changes.status !== undefined
    if (changed) this.output.success(`${this.pastTense} tenant ${tenant.tenantId} (was ${changes.status?.from}).`)
    else this.output.info(`Tenant ${tenant.tenantId} is already ${tenant.status}; nothing changed.`)
    return {changed, previousStatus: (changes.status?.from as TenantStatus | undefined) ?? tenant.status, tenant}
  }
}
