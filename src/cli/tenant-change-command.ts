import {Flags} from '@oclif/core'

import {changeTenantsFromCsv, type ChangeCounts, type ChangeResult, type TenantChange} from '../services/import/tenant-changes.js'
import {BaseCommand} from './base-command.js'
import {ignoreUnknownColumnsFlag} from './common-flags.js'
import {integerFlag} from './integer-flags.js'
import {type ImportVerbs, openImportInput, runBatch} from './import-report.js'
import {ImportProgress, rowsPerSecond} from './progress.js'

/** The flags of every `batch tenants` change from a CSV (update, set-status, delete). */
export const tenantChangeFlags = {
  atomic: Flags.boolean({description: 'Change nothing at all if any row is rejected (one transaction).'}),
  'chunk-size': integerFlag({default: 500, description: 'Rows per chunk (and per transaction).', hidden: true, max: 10_000, min: 1}),
  'dry-run': Flags.boolean({description: 'Check every row against the database, then roll back: nothing is written.'}),
  'from-csv': Flags.string({description: 'The CSV file (a tenant_id column, e.g. an export of `tenant tenants list --csv`), or - for standard input.', helpValue: '<file or ->', required: true}),
  'ignore-unknown-columns': ignoreUnknownColumnsFlag(),
  'reject-file': Flags.string({description: 'Write the rejected rows here, with an added error column, to fix and feed back.', helpValue: '<path>'}),
}

const n = (value: number): string => value.toLocaleString('en-US')

/**
 * `batch tenants update|set-status|delete`: a change to each existing tenant a CSV names,
 * reported like the import (src/cli/import-report.ts), exit 3 when rows are rejected.
 */
export abstract class TenantChangeCommand extends BaseCommand<typeof TenantChangeCommand> {
  static override databaseStatements = 'bulk' as const
  static override flags = tenantChangeFlags

  #progress: ImportProgress<ChangeCounts> | undefined

  /** The verb of a changed row, past tense: updated, deleted, suspended... */
  protected abstract readonly verb: string

  /** What to do to each tenant; throws a usage error before anything is read when the command line does not allow it. */
  protected abstract change(): Promise<TenantChange> | TenantChange

  async run(): Promise<ChangeResult> {
    const change = await this.change()
    const {atomic, 'chunk-size': chunkSize, 'dry-run': dryRun, 'from-csv': from, 'ignore-unknown-columns': ignoreUnknownColumns, 'reject-file': rejectPath} = this.flags
    const opened = await openImportInput('from-csv', from)
    const workspace = await this.workspace()
    const verb = this.verb
    const progress = new ImportProgress<ChangeCounts>({
      describe: (counts, ms) => `Changing tenants: ${n(counts.read)} rows read, ${n(counts.changed)} ${verb}, ${n(counts.unchanged)} unchanged, ${n(counts.rejected)} rejected (${n(rowsPerSecond(counts.read, ms))} rows/s)`,
      live: this.settings.colorAllowed && Boolean(process.stderr.isTTY),
    })
    this.#progress = progress
    const verbs = (result: ChangeResult): ImportVerbs => ({changed: [[verb, result.changed]], unchanged: change.kind === 'delete' ? [] : [['unchanged', result.unchanged]]})
    return runBatch(this.output, opened, {action: 'Applied', from, progress, rejectPath, verbs}, async (hooks) =>
      (await this.database()).bulk((session) => changeTenantsFromCsv(session.db, this.audit, opened.input, change, {...hooks, atomic, chunkSize, dryRun, ignoreUnknownColumns, source: from === '-' ? 'stdin' : from, workspace})),
    )
  }

  protected override interruption(): {details: Record<string, unknown>; hint: string; message: string} {
    this.#progress?.stop()
    if (this.flags.atomic || this.flags['dry-run']) return {details: {kept: 0}, hint: 'Run the same command again.', message: 'Nothing was kept: the run was one transaction and was rolled back.'}
    const kept = this.#progress?.counts?.changed ?? 0
    return {
      details: {kept},
      hint: 'Run the same command again to finish the job: tenants already as the file says are left unchanged.',
      message: `Kept: ${n(kept)} tenant${kept === 1 ? '' : 's'} ${this.verb} and committed before the interruption, in whole chunks.`,
    }
  }
}
