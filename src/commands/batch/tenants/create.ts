import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {ignoreUnknownColumnsFlag} from '../../../cli/common-flags.js'
import {type ImportVerbs, openImportInput, runBatch} from '../../../cli/import-report.js'
import {ImportProgress} from '../../../cli/progress.js'
import {importTenantsCsv, type ImportResult, type OnConflict} from '../../../services/import/tenant-import.js'
import {integerFlag} from '../../../cli/integer-flags.js'
import {example} from '../../../cli/example.js'

export default class BatchTenantsCreate extends BaseCommand<typeof BatchTenantsCreate> {
  // A chunk of up to 50,000 rows is one COPY.
  static override databaseStatements = 'bulk' as const
  static override description = `Creates tenants from a CSV file (or standard input with -), streaming: the file is never held in memory, and a million rows take well under a minute.

The header names the columns, in any order, snake_case or camelCase: tenant_id, name and type are required; shopify_shop, gmc_merchant_id, market, region, status and workspace (overrides --workspace for that row) are optional. Another column is an error naming it, unless --ignore-unknown-columns skips it. Rows follow the rules of \`synthex tenant tenants create\`. Files may be UTF-8 with or without BOM, with CRLF or LF line ends; blank lines are ignored.

By default valid rows are imported and every invalid row is reported with its line number and all its problems at once, and the exit code is 3. --atomic imports nothing at all if any row is invalid. --dry-run checks everything, including conflicts with existing tenants, and writes nothing. Rows are written in chunks, each in its own transaction: if the run is interrupted, it says how many rows were kept; run the same command again with --on-conflict skip to finish the job.`

  static override examples = [
    example('--from-csv tenants/new-tenants.csv', 'Import new tenants; an existing tenant id is a rejected row.'),
    example('--from-csv tenants/all.csv --on-conflict update', 'Make the database match the file: create new tenants, update changed ones (safe to re-run).'),
    example('--from-csv tenants/new.csv --dry-run --reject-file rejects.csv', 'Check a file in CI without writing; the bad rows land in rejects.csv with an error column.'),
    example('--from-csv crm-export.csv --ignore-unknown-columns', 'A spreadsheet with notes and owner columns: those are skipped.'),
    {command: 'cat tenants.csv | <%= config.bin %> <%= command.id %> --from-csv - --atomic --json', description: 'All or nothing, from standard input, with a JSON summary.'},
  ]

  static override flags = {
    atomic: Flags.boolean({description: 'Import nothing at all if any row is rejected (one transaction).'}),
    'chunk-size': integerFlag({default: 5000, description: 'Rows per chunk (and per transaction); the first chunks, from 1,000 rows, are smaller.', hidden: true, max: 50_000, min: 1}),
    'dry-run': Flags.boolean({description: 'Validate every row and check it against the database, then roll back: nothing is written.'}),
    'from-csv': Flags.string({description: 'The CSV file to import, or - for standard input.', helpValue: '<file or ->', required: true}),
    'ignore-unknown-columns': ignoreUnknownColumnsFlag(),
    'on-conflict': Flags.string({
      default: 'fail',
      description: 'What to do with a tenant id that already exists: fail (reject the row), skip it, or update it with the file\'s values.',
      options: ['fail', 'skip', 'update'],
    }),
    'reject-file': Flags.string({description: 'Write the rejected rows here, with an added error column, to fix and feed back.', helpValue: '<path>'}),
  }

  static override summary = 'Create tenants in bulk from a CSV file.'

  #progress: ImportProgress | undefined

  async run(): Promise<ImportResult> {
    const {atomic, 'chunk-size': chunkSize, 'dry-run': dryRun, 'from-csv': from, 'ignore-unknown-columns': ignoreUnknownColumns, 'on-conflict': onConflict, 'reject-file': rejectPath} = this.flags
    const opened = await openImportInput('from-csv', from)
    const workspace = await this.workspace()
    const progress = new ImportProgress({live: this.settings.colorAllowed && Boolean(process.stderr.isTTY)})
    this.#progress = progress
    const verbs = (result: ImportResult): ImportVerbs => ({changed: [['created', result.created], ['updated', result.updated]], unchanged: [['skipped', result.skipped]]})
    return runBatch(this.output, opened, {from, progress, rejectPath, verbs}, async (hooks) =>
      (await this.database()).bulk((session) => importTenantsCsv(session, this.audit, opened.input, {...hooks, atomic, chunkSize, dryRun, ignoreUnknownColumns, onConflict: onConflict as OnConflict, source: from === '-' ? 'stdin' : from, workspace})),
    )
  }

  /** What an interrupted import kept: the chunks committed so far (nothing when it was one transaction). */
  protected override interruption(): {details: Record<string, unknown>; hint: string; message: string} {
    this.#progress?.stop()
    const {atomic, 'dry-run': dryRun, 'on-conflict': onConflict} = this.flags
    if (dryRun) return {details: {created: 0, kept: 0, updated: 0}, hint: 'Run the dry run again.', message: 'Nothing was written (dry run).'}
    if (atomic) return {details: {created: 0, kept: 0, updated: 0}, hint: 'Run the same command again.', message: 'Nothing was kept: the import was one transaction (--atomic) and was rolled back.'}
    const created = this.#progress?.counts?.created ?? 0
    const updated = this.#progress?.counts?.updated ?? 0
    const kept = created + updated
    const n = (value: number): string => value.toLocaleString('en-US')
    const hint = onConflict === 'update' ? 'Run the same command again (--on-conflict update) to finish the job.' : 'Run the same command again with --on-conflict skip to finish the job: the tenants already imported are skipped.'
    return {
      details: {created, kept, updated},
      hint,
      message: `Kept: ${n(kept)} row${kept === 1 ? '' : 's'} written and committed before the interruption (${n(created)} created, ${n(updated)} updated), in whole chunks.`,
    }
  }
}
