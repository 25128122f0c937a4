import {BaseCommand} from '../../../cli/base-command.js'
import {tenantCreateFlags, tenantFieldsFromFlags, withFlagNames} from '../../../cli/tenant-flags.js'
import {tenantRecord} from '../../../cli/tenant-view.js'
import {createTenant, type Tenant} from '../../../services/tenants/tenants.js'
import {example} from '../../../cli/example.js'

export default class TenantsCreate extends BaseCommand<typeof TenantsCreate> {
  static override aliases = ['tenants:create']
  static override description = `Creates one tenant in the workspace. The fields follow the same rules as the columns of \`synthex batch tenants create --from-csv\`: tenant ids are 1-64 of A-Z a-z 0-9 _ - and unique in their workspace; shopify and mixed tenants need --shopify-shop, google_merchant and mixed tenants need --gmc-merchant-id. Every problem with the input is reported at once, and nothing is written unless all is well.`

  static override examples = [
    example('--tenant-id acme-us --name "Acme US" --type shopify --shopify-shop acme-us.myshopify.com --market US', 'A Shopify shop.'),
    example('--tenant-id acme-de --name "Acme DE" --type mixed --shopify-shop acme-de.myshopify.com --gmc-merchant-id 123456789 --market DE --region emea', 'A shop with its Merchant Center account, in another workspace.'),
    example('--tenant-id feeds-1 --name "Feeds" --type google_merchant --gmc-merchant-id 987654321 --json', 'Print the created tenant as JSON.'),
  ]

  static override flags = tenantCreateFlags

  static override summary = 'Create a tenant.'

  async run(): Promise<Tenant> {
    const tenant = await withFlagNames(async () =>
      createTenant(await this.db(), await this.workspace(), this.audit, tenantFieldsFromFlags(this.flags)),
    )
    if (!this.jsonEnabled()) {
      this.output.success(`Created tenant ${tenant.tenantId} in workspace ${tenant.workspace}.`)
      this.output.record(tenantRecord(tenant))
    }

    return tenant
  }
}
