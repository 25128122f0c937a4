import {TenantChangeCommand, tenantChangeFlags} from '../../../cli/tenant-change-command.js'
import {ask} from '../../../cli/prompt.js'
import {SynthexError} from '../../../errors/synthex-error.js'
import type {TenantChange} from '../../../services/import/tenant-changes.js'
import {yesFlag} from '../../../cli/common-flags.js'
import {example} from '../../../cli/example.js'

export default class BatchTenantsDelete extends TenantChangeCommand {
  static override description = `Deletes for good the tenants a CSV file names (a tenant_id column, and optionally workspace; other columns are not used), with their credentials. Their history stays in the audit trail, ending with tenant.deleted. A tenant that does not exist is a rejected row (exit code 3).

On a terminal you are asked to confirm; in scripts and CI, where nobody can answer (or when the file comes on standard input), --yes is required. Try --dry-run first: it says how many tenants would be deleted.`

  static override examples = [
    example('--from-csv offboarded.csv --dry-run', 'How many tenants would be deleted, and which rows are wrong.'),
    example('--from-csv offboarded.csv --yes', 'Delete them (scripts, CI).'),
  ]

  static override flags = {...tenantChangeFlags, yes: yesFlag()}
  static override summary = 'Delete tenants in bulk from a CSV file.'
  protected readonly verb = 'deleted'

  protected async change(): Promise<TenantChange> {
    const flags = this.flags as typeof this.flags & {yes?: boolean}
    if (flags.yes || flags['dry-run']) return {kind: 'delete'}
    if (!this.canPrompt() || flags['from-csv'] === '-') {
      throw new SynthexError('Refusing to delete tenants without confirmation.', {
        code: 'CONFIRMATION_REQUIRED',
        hint: 'Nobody is at a terminal to confirm; pass --yes to delete (try --dry-run first).',
        kind: 'usage',
      })
    }

    const workspace = await this.workspace()
    const answer = await ask(`Delete every tenant listed in ${flags['from-csv']} (workspace ${workspace.slug} unless a row says otherwise)? This cannot be undone.\nType "delete" to confirm: `)
    if (answer !== 'delete') throw new SynthexError('Not confirmed; nothing was deleted.', {code: 'NOT_CONFIRMED', kind: 'runtime'})
    return {kind: 'delete'}
  }
}
