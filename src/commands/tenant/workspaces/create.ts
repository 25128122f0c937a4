import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {createWorkspace, type Workspace} from '../../../services/workspaces/workspaces.js'
import {example} from '../../../cli/example.js'

export default class WorkspacesCreate extends BaseCommand<typeof WorkspacesCreate> {
  static override aliases = ['workspaces:create']
  static override args = {
    slug: Args.string({description: 'Short name: lower-case letters, digits and "-", e.g. acme-eu.', required: true}),
  }

  static override description = 'Creates a workspace, a group of tenants with its own tenant ids (one per client, region or team). Every command works in the workspace given by --workspace / SYNTHEX_WORKSPACE, `default` when none is given.'
  static override examples = [
    example('acme-eu --name "Acme Europe"', 'Create a workspace for a client\'s European shops.'),
    {command: '<%= config.bin %> tenant tenants list --workspace acme-eu', description: 'Then work in it.'},
  ]

  static override flags = {
    name: Flags.string({description: 'Display name (default: the slug).', helpValue: '<name>'}),
  }

  static override summary = 'Create a workspace.'

  async run(): Promise<Workspace> {
    const workspace = await createWorkspace(await this.db(), this.audit, {name: this.flags.name, slug: this.args.slug})
    this.output.success(`Created workspace ${workspace.slug} (${workspace.name}).`)
    return workspace
  }
}
