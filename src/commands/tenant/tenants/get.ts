import {BaseCommand} from '../../../cli/base-command.js'
import {tenantIdArg} from '../../../cli/tenant-flags.js'
import {tenantRecord} from '../../../cli/tenant-view.js'
import {getTenant, type Tenant} from '../../../services/tenants/tenants.js'
import {example} from '../../../cli/example.js'

export default class TenantsGet extends BaseCommand<typeof TenantsGet> {
  static override aliases = ['tenants:get']
  static override args = {
    'tenant-id': tenantIdArg,
  }

  static override description = 'Shows every field of one tenant, with when it was created, last changed and last active.'
  static override examples = [
    example('acme-us', 'Show a tenant.'),
    example('acme-us --json | jq -r .shopifyShop', 'Read one field in a script.'),
  ]

  static override summary = 'Show a tenant.'

  async run(): Promise<Tenant> {
    const tenant = await getTenant(await this.db(), await this.workspace(), this.args['tenant-id'])
    if (!this.jsonEnabled()) this.output.record(tenantRecord(tenant))
    return tenant
  }
}
