import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {integerFlag} from '../../cli/integer-flags.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {EXPIRING_COLUMNS} from '../../cli/credential-view.js'
import {type Credential, expiringCredentials} from '../../services/credentials/credentials.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'

export default class CredentialsExpiring extends BaseCommand<typeof CredentialsExpiring> {
  static override description = 'The fleet-wide expiry report: every active credential that has expired or expires within --within (30 days by default), soonest first, across all workspaces (or only the one given with --workspace / SYNTHEX_WORKSPACE).'
  static override examples = [
    example('', 'What lapses in the next 30 days, fleet-wide.'),
    example('--within 7d --json | jq length', 'How many lapse within a week.'),
    example('-w clients --csv > expiring.csv', 'One workspace, as CSV.'),
  ]

  static override flags = {
    csv: csvFlag(),
    limit: integerFlag({default: 1000, description: 'At most this many credentials.', max: 100_000, min: 1}),
    within: Flags.string({default: '30d', description: 'How far ahead to look.', helpValue: '<duration>'}),
  }

  static override summary = 'Report credentials that expire soon, fleet-wide.'

  async run(): Promise<{credentials: Credential[]; truncated: boolean; within: string}> {
    const scoped = this.settings.workspaceChosen
    // Flags are checked before the database is opened.
    const withinMs = durationFlag('within', this.flags.within)
    const {credentials, truncated} = await expiringCredentials(await this.db(), {
      limit: this.flags.limit,
      withinMs,
      workspace: scoped ? await this.workspace() : undefined,
    })
    if (!this.jsonEnabled()) {
      this.output.list(credentials, EXPIRING_COLUMNS, {csv: this.flags.csv, empty: `No credential expires within ${this.flags.within}.`})
      if (truncated) this.output.warn(`Only the first ${this.flags.limit.toLocaleString('en-US')} are shown; raise --limit to see them all.`)
    }

    return {credentials, truncated, within: this.flags.within}
  }
}
