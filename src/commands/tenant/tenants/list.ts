import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {integerFlag} from '../../../cli/integer-flags.js'
import {TENANT_COLUMNS} from '../../../cli/tenant-view.js'
import type {TenantStatus, TenantType} from '../../../db/schema.js'
import {TENANT_STATUSES, TENANT_TYPES} from '../../../domain/tenant-fields.js'
import {listTenants, type TenantPage} from '../../../services/tenants/tenants.js'
import {csvFlag} from '../../../cli/common-flags.js'
import {example} from '../../../cli/example.js'

export default class TenantsList extends BaseCommand<typeof TenantsList> {
  static override aliases = ['tenants:list']
  static override description = `Lists tenants in tenant-id order, a page at a time (--limit, 100 by default). When there are more, the next page is one command away: the hint on stderr shows it, and the JSON result carries it as nextCursor (pass it to --after).

--csv prints the columns of the CSV import, so an export can be edited and fed back to \`synthex batch tenants create --from-csv\`.`

  static override examples = [
    example('', 'The first 100 tenants of the default workspace.'),
    example('--type shopify --status suspended', 'Suspended Shopify tenants.'),
    example('--search acme -w clients', 'Tenants whose id or name contains "acme", in workspace clients.'),
    example('--limit 1000 --after acme-042 --json', 'The next page, as JSON.'),
    example('--limit 10000 --csv > tenants.csv', 'Export to CSV.'),
  ]

  static override flags = {
    after: Flags.string({description: 'Start after this tenant id (the nextCursor of the previous page).', helpValue: '<tenant-id>'}),
    csv: csvFlag('Print CSV (the import\'s columns) instead of a table.'),
    limit: integerFlag({default: 100, description: 'Tenants per page.', max: 10_000, min: 1}),
    search: Flags.string({description: 'Only tenants whose id or name contains this text (case-insensitive).', helpValue: '<text>'}),
    status: Flags.string({description: 'Only tenants with this status.', options: [...TENANT_STATUSES]}),
    type: Flags.string({description: 'Only tenants of this type.', options: [...TENANT_TYPES]}),
  }

  static override summary = 'List tenants.'

  async run(): Promise<TenantPage> {
    const {after, csv, limit, search, status, type} = this.flags
    const workspace = await this.workspace()
    const page = await listTenants(await this.db(), workspace, {
      after,
      limit,
      search,
      status: status as TenantStatus | undefined,
      type: type as TenantType | undefined,
    })
    if (!this.jsonEnabled()) {
      const filtered = Boolean(search || status || type || after)
      this.output.list(page.tenants, TENANT_COLUMNS, {
        csv,
        empty: filtered ? 'No tenants match.' : `No tenants in workspace ${workspace.slug} yet. Create one with \`synthex tenant tenants create\`.`,
      })
      if (page.nextCursor) {
        this.output.info(`More tenants follow: add --after ${page.nextCursor} for the next page.`)
      }
    }

    return page
  }
}
