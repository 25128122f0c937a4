import {BaseCommand} from '../../../cli/base-command.js'
import {tenantIdArg} from '../../../cli/tenant-flags.js'
import {ask} from '../../../cli/prompt.js'
import {SynthexError} from '../../../errors/synthex-error.js'
import {deleteTenant, getTenant, type Tenant} from '../../../services/tenants/tenants.js'
import {yesFlag} from '../../../cli/common-flags.js'
import {example} from '../../../cli/example.js'

export default class TenantsDelete extends BaseCommand<typeof TenantsDelete> {
  static override aliases = ['tenants:delete']
  static override args = {
    'tenant-id': tenantIdArg,
  }

  static override description = `Deletes a tenant for good. Its history stays in the audit trail (\`synthex tenant tenants history\` still shows it, ending with tenant.deleted). To stop a tenant without losing it, use \`synthex tenant tenants suspend\` or \`deactivate\`.

On a terminal you are asked to type the tenant id to confirm; in scripts and CI, where nobody can answer, --yes is required.`

  static override examples = [
    example('acme-old', 'Delete, after typing the id to confirm.'),
    example('acme-old --yes', 'Delete without asking (scripts, CI).'),
  ]

  static override flags = {
    yes: yesFlag(),
  }

  static override summary = 'Delete a tenant.'

  async run(): Promise<Tenant> {
    const tenantId = this.args['tenant-id']
    if (!this.flags.yes) {
      if (!this.canPrompt()) {
        throw new SynthexError(`Refusing to delete tenant ${tenantId} without confirmation.`, {
          code: 'CONFIRMATION_REQUIRED',
          hint: 'Nobody is at a terminal to confirm; pass --yes to delete.',
          kind: 'usage',
        })
      }

      const workspace = await this.workspace()
      const tenant = await getTenant(await this.db(), workspace, tenantId)
      const answer = await ask(`Delete tenant ${tenant.tenantId} (${tenant.name}) from workspace ${workspace.slug}? This cannot be undone.\nType the tenant id to confirm: `)
      if (answer !== tenant.tenantId) {
        throw new SynthexError('Not confirmed; nothing was deleted.', {code: 'NOT_CONFIRMED', kind: 'runtime'})
      }
    }

    const deleted = await deleteTenant(await this.db(), await this.workspace(), this.audit, tenantId)
    this.output.success(`Deleted tenant ${deleted.tenantId} from workspace ${deleted.workspace}.`)
    return deleted
  }
}
