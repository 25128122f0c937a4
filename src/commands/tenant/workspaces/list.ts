import {BaseCommand} from '../../../cli/base-command.js'
import {listWorkspaces, type WorkspaceSummary} from '../../../services/workspaces/workspaces.js'
import {csvFlag} from '../../../cli/common-flags.js'
import {example} from '../../../cli/example.js'

export default class WorkspacesList extends BaseCommand<typeof WorkspacesList> {
  static override aliases = ['workspaces:list']
  static override description = 'Lists every workspace with the number of tenants in it.'
  static override examples = [
    example('', 'Show all workspaces.'),
    example('--json | jq -r ".workspaces[].slug"', 'Workspace slugs for a script.'),
  ]

  static override flags = {
    csv: csvFlag(),
  }

  static override summary = 'List workspaces.'

  async run(): Promise<{workspaces: WorkspaceSummary[]}> {
    const workspaces = await listWorkspaces(await this.db())
    if (!this.jsonEnabled()) {
      this.output.list(
        workspaces,
        [
          {header: 'Slug', key: 'slug', value: (workspace) => workspace.slug},
          {header: 'Name', key: 'name', value: (workspace) => workspace.name},
          {header: 'Tenants', key: 'tenant_count', value: (workspace) => workspace.tenantCount},
          {header: 'Created', key: 'created_at', value: (workspace) => workspace.createdAt},
        ],
        {csv: this.flags.csv, empty: 'No workspaces.'},
      )
    }

    return {workspaces}
  }
}
