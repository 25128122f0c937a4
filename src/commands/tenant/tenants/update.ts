import {BaseCommand} from '../../../cli/base-command.js'
import {tenantFieldFlags, tenantFieldsFromFlags, tenantIdArg, withFlagNames} from '../../../cli/tenant-flags.js'
import {describeChanges, tenantRecord} from '../../../cli/tenant-view.js'
import {InvalidInputError} from '../../../errors/input-errors.js'
import {type TenantUpdate, updateTenant} from '../../../services/tenants/tenants.js'
import {example} from '../../../cli/example.js'

export default class TenantsUpdate extends BaseCommand<typeof TenantsUpdate> {
  static override aliases = ['tenants:update']
  static override args = {
    'tenant-id': tenantIdArg,
  }

  static override description = `Changes the fields given and leaves the others as they are. The result must still be a valid tenant: changing --type to shopify needs a shop, and a Merchant Center id must then be cleared. An empty value clears an optional field (--market ""). Only real changes are written and recorded in the tenant's history; an update that changes nothing writes nothing.`

  static override examples = [
    example('acme-us --name "Acme United States"', 'Rename a tenant.'),
    example('acme-us --type mixed --gmc-merchant-id 123456789', 'Add a Merchant Center account to a Shopify tenant.'),
    example('acme-us --region ""', 'Clear the region.'),
  ]

  static override flags = {...tenantFieldFlags}
  static override summary = 'Change a tenant\'s fields.'

  async run(): Promise<TenantUpdate> {
    const patch = tenantFieldsFromFlags(this.flags)
    if (Object.values(patch).every((value) => value === undefined)) {
      throw new InvalidInputError([{field: 'flags', message: 'nothing to change; give at least one of --name, --type, --shopify-shop, --gmc-merchant-id, --market, --region, --status'}])
    }

    const result = await withFlagNames(async () =>
      updateTenant(await this.db(), await this.workspace(), this.audit, this.args['tenant-id'], patch),
    )
    if (!this.jsonEnabled()) {
      if (Object.keys(result.changes).length === 0) this.output.info(`Tenant ${result.tenant.tenantId} already has those values; nothing changed.`)
      else this.output.success(`Updated tenant ${result.tenant.tenantId}: ${describeChanges(result.changes)}`)
      this.output.record(tenantRecord(result.tenant))
    }

    return result
  }
}
