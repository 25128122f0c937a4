import {Args} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {idFlag, integerFlag} from '../../../cli/integer-flags.js'
import {EVENT_COLUMNS} from '../../../cli/tenant-view.js'
import {type HistoryPage, tenantHistory} from '../../../services/tenants/tenants.js'
import {csvFlag} from '../../../cli/common-flags.js'
import {example} from '../../../cli/example.js'

export default class TenantsHistory extends BaseCommand<typeof TenantsHistory> {
  static override aliases = ['tenants:history']
  static override args = {
    'tenant-id': Args.string({description: 'The tenant\'s id in its workspace (deleted tenants too).', required: true}),
  }

  static override description = 'Shows the audit trail of one tenant, oldest first: every creation, change, status change and deletion, with who made it (SYNTHEX_ACTOR or the OS user), from where, and what changed. Works for deleted tenants too.'
  static override examples = [
    example('acme-us', 'What happened to a tenant, and who did it.'),
    example('acme-us --json | jq ".events[] | select(.type == \\"tenant.updated\\")"', 'Only its updates, with jq.'),
  ]

  static override flags = {
    after: idFlag({description: 'Start after this event id (the nextCursor of the previous page).'}),
    csv: csvFlag(),
    limit: integerFlag({default: 100, description: 'Events per page.', max: 10_000, min: 1}),
  }

  static override summary = 'Show a tenant\'s history.'

  async run(): Promise<HistoryPage> {
    const page = await tenantHistory(await this.db(), await this.workspace(), this.args['tenant-id'], {
      after: this.flags.after,
      limit: this.flags.limit,
    })
    if (!this.jsonEnabled()) {
      this.output.list(page.events, EVENT_COLUMNS, {csv: this.flags.csv, empty: 'No more events.'})
      if (page.nextCursor !== null) this.output.info(`More events follow: add --after ${page.nextCursor} for the next page.`)
    }

    return page
  }
}
