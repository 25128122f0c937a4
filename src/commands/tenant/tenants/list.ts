import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {integerFlag} from '../../../cli/integer-flags.js'
import type {Column} from '../../../cli/output.js'
import {TENANT_COLUMNS} from '../../../cli/tenant-view.js'
import type {TenantStatus, TenantType} from '../../../db/schema.js'
import {TENANT_STATUSES, TENANT_TYPES} from '../../../domain/tenant-fields.js'
import {allTenants, listTenants, type Tenant, type TenantPage} from '../../../services/tenants/tenants.js'
import {listWorkspaces} from '../../../services/workspaces/workspaces.js'
import {csvFlag} from '../../../cli/common-flags.js'
import {example} from '../../../cli/example.js'

/** The import's `workspace` column, for exports of every workspace. */
const WORKSPACE_COLUMN: Column<Tenant> = {header: 'Workspace', key: 'workspace', value: (tenant) => tenant.workspace}

export default class TenantsList extends BaseCommand<typeof TenantsList> {
  static override aliases = ['tenants:list']
  static override description = `Lists tenants in tenant-id order, a page at a time (--limit, 100 by default). When there are more, the next page is one command away: the notice on stderr shows it, and the JSON result carries it as nextCursor (pass it to --after).

--all lists every tenant of the workspace, page after page, streamed (nothing stops at a page); --all-workspaces every tenant of every workspace, with a workspace column. --csv prints the columns of the CSV import, so an export can be edited and fed back to \`synthex batch tenants create --from-csv\` (--on-conflict update makes the database match it). --csv without --all says on stderr when more tenants follow.`

  static override examples = [
    example('', 'The first 100 tenants of the default workspace.'),
    example('--type shopify --status suspended', 'Suspended Shopify tenants.'),
    example('--search acme -w clients', 'Tenants whose id or name contains "acme", in workspace clients.'),
    example('--limit 1000 --after acme-042 --json', 'The next page, as JSON.'),
    example('--all --csv > tenants.csv', 'Export every tenant of the workspace, to edit and import again.'),
    example('--all-workspaces --csv > fleet.csv', 'Export the whole fleet, with a workspace column.'),
  ]

  static override flags = {
    after: Flags.string({description: 'Start after this tenant id (the nextCursor of the previous page).', exclusive: ['all', 'all-workspaces'], helpValue: '<tenant-id>'}),
    all: Flags.boolean({description: 'Every tenant of the workspace, not one page (streamed with --csv).'}),
    'all-workspaces': Flags.boolean({description: 'Every tenant of every workspace, with a workspace column.'}),
    csv: csvFlag('Print CSV (the import\'s columns) instead of a table.'),
    limit: integerFlag({default: 100, description: 'Tenants per page.', max: 10_000, min: 1}),
    search: Flags.string({description: 'Only tenants whose id or name contains this text (case-insensitive).', helpValue: '<text>'}),
    status: Flags.string({description: 'Only tenants with this status.', options: [...TENANT_STATUSES]}),
    type: Flags.string({description: 'Only tenants of this type.', options: [...TENANT_TYPES]}),
  }

  static override summary = 'List tenants.'

  async run(): Promise<TenantPage | {nextCursor: null; tenants: Tenant[]; workspace: string | null}> {
    const {after, all, 'all-workspaces': everyWorkspace, csv, limit, search, status, type} = this.flags
    const query = {search, status: status as TenantStatus | undefined, type: type as TenantType | undefined}
    const filtered = Boolean(search || status || type || after)
    if (all || everyWorkspace) return this.listAll(query, filtered)

    const workspace = await this.workspace()
    const page = await listTenants(await this.db(), workspace, {...query, after, limit})
    if (!this.jsonEnabled()) {
      this.output.list(page.tenants, TENANT_COLUMNS, {
        csv,
        empty: filtered ? 'No tenants match.' : `No tenants in workspace ${workspace.slug} yet. Create one with \`synthex tenant tenants create\`.`,
      })
      if (page.nextCursor && csv) {
        this.output.warn(`Only the first ${page.tenants.length.toLocaleString('en-US')} tenants were written: more follow. Add --all for every tenant of workspace ${workspace.slug} (or --after ${page.nextCursor} for the next page).`)
      } else if (page.nextCursor) {
        this.output.info(`More tenants follow: add --after ${page.nextCursor} for the next page, or --all for every one.`)
      }
    }

    return page
  }

  /** Every page, one after the other: CSV is written as pages arrive, a table or JSON once all are read. */
  private async listAll(query: {search?: string; status?: TenantStatus; type?: TenantType}, filtered: boolean): Promise<{nextCursor: null; tenants: Tenant[]; workspace: string | null}> {
    const everyWorkspace = this.flags['all-workspaces']
    const db = await this.db()
    const workspaces = everyWorkspace ? await listWorkspaces(db) : [await this.workspace()]
    const columns = everyWorkspace ? [...TENANT_COLUMNS, WORKSPACE_COLUMN] : TENANT_COLUMNS
    const streaming = this.flags.csv && !this.jsonEnabled()
    const collected: Tenant[] = []
    let header = true
    for await (const page of allTenants(db, workspaces, query)) {
      if (!streaming) {
        collected.push(...page)
        continue
      }

      this.output.csv(page, columns, {header})
      header = false
      await this.output.drained()
    }

    if (streaming && header) this.output.csv([], columns)
    if (!streaming && !this.jsonEnabled()) {
      const scope = everyWorkspace ? 'any workspace' : `workspace ${workspaces[0]?.slug}`
      this.output.list(collected, columns, {empty: filtered ? 'No tenants match.' : `No tenants in ${scope} yet.`})
    }

    return {nextCursor: null, tenants: collected, workspace: everyWorkspace ? null : (workspaces[0]?.slug ?? null)}
  }
}
