import {createReadStream, fstatSync} from 'node:fs'
import {stat} from 'node:fs/promises'
import type {Readable} from 'node:stream'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {integerFlag} from '../../../cli/integer-flags.js'
import {ImportProgress, rowsPerSecond} from '../../../cli/progress.js'
import {type FileIdentity, RejectFile} from '../../../cli/reject-file.js'
import {SynthexError} from '../../../errors/synthex-error.js'
import {importTenantsCsv, type ImportResult, type OnConflict} from '../../../services/import/tenant-import.js'
import {example} from '../../../cli/example.js'

const SHOWN_REJECTIONS = 50

export default class BatchTenantsCreate extends BaseCommand<typeof BatchTenantsCreate> {
  // A chunk of up to 50,000 rows is one COPY.
  static override databaseStatements = 'bulk' as const
  static override description = `Creates tenants from a CSV file (or standard input with -), streaming: the file is never held in memory, and a million rows take well under a minute.

The header names the columns, in any order, snake_case or camelCase: tenant_id, name and type are required; shopify_shop, gmc_merchant_id, market, region, status and workspace (overrides --workspace for that row) are optional. Rows follow the rules of \`synthex tenant tenants create\`. Files may be UTF-8 with or without BOM, with CRLF or LF line ends; blank lines are ignored.

By default valid rows are imported and every invalid row is reported with its line number, column and reason, and the exit code is 3. --atomic imports nothing at all if any row is invalid. --dry-run checks everything, including conflicts with existing tenants, and writes nothing. Rows are written in chunks, each in its own transaction: if the run is killed, run the same command again with --on-conflict skip to finish the job.`

  static override examples = [
    example('--from-csv tenants/new-tenants.csv', 'Import new tenants; an existing tenant id is a rejected row.'),
    example('--from-csv tenants/all.csv --on-conflict update', 'Make the database match the file: create new tenants, update changed ones (safe to re-run).'),
    example('--from-csv tenants/new.csv --dry-run --reject-file rejects.csv', 'Check a file in CI without writing; the bad rows land in rejects.csv with an error column.'),
    {command: 'cat tenants.csv | <%= config.bin %> <%= command.id %> --from-csv - --atomic --json', description: 'All or nothing, from standard input, with a JSON summary.'},
  ]

  static override flags = {
    atomic: Flags.boolean({description: 'Import nothing at all if any row is rejected (one transaction).'}),
    'chunk-size': integerFlag({default: 5000, description: 'Rows per chunk (and per transaction).', hidden: true, max: 50_000, min: 1}),
    'dry-run': Flags.boolean({description: 'Validate every row and check it against the database, then roll back: nothing is written.'}),
    'from-csv': Flags.string({description: 'The CSV file to import, or - for standard input.', helpValue: '<file or ->', required: true}),
    'on-conflict': Flags.string({
      default: 'fail',
      description: 'What to do with a tenant id that already exists: fail (reject the row), skip it, or update it with the file\'s values.',
      options: ['fail', 'skip', 'update'],
    }),
    'reject-file': Flags.string({description: 'Write the rejected rows here, with an added error column, to fix and feed back.', helpValue: '<path>'}),
  }

  static override summary = 'Create tenants in bulk from a CSV file.'

  async run(): Promise<ImportResult> {
    const {atomic, 'chunk-size': chunkSize, 'dry-run': dryRun, 'from-csv': from, 'on-conflict': onConflict, 'reject-file': rejectPath} = this.flags
    const {identity, input} = await openInput(from)
    const rejects = rejectPath ? await RejectFile.open(rejectPath, {input: identity}) : undefined
    const workspace = await this.workspace()
    const progress = new ImportProgress({live: this.settings.colorAllowed && Boolean(process.stderr.isTTY)})
    try {
      const database = await this.database()
      const result = await database.bulk((session) => importTenantsCsv(session, this.audit, input, {
        atomic,
        chunkSize,
        dryRun,
        onConflict: onConflict as OnConflict,
        onProgress: (counts) => progress.update(counts),
        onHeader: (header) => rejects?.header(header),
        onRejected: (rejection) => rejects?.write(rejection),
        source: from === '-' ? 'stdin' : from,
        workspace,
      }))
      progress.done()
      this.report(result, from, rejectPath)
      if (result.rejected > 0) process.exitCode = 3
      return result
    } finally {
      progress.done()
      input.destroy()
      await rejects?.close()
    }
  }

  private report(result: ImportResult, from: string, rejectPath: string | undefined): void {
    const out = this.output
    const n = (value: number): string => value.toLocaleString('en-US')
    const seconds = result.durationMs < 1000 ? `${Math.round(result.durationMs)} ms` : `${(result.durationMs / 1000).toFixed(1)}s`
    // A rate over a fraction of a second says more about startup than about throughput.
    const rate = result.durationMs < 1000 ? '' : ` (${n(rowsPerSecond(result.read, result.durationMs))} rows/s)`
    const counts = `${n(result.read)} read, ${n(result.created)} created, ${n(result.updated)} updated, ${n(result.skipped)} skipped, ${n(result.rejected)} rejected`
    const source = from === '-' ? 'standard input' : from
    if (result.dryRun) out.info(`Dry run of ${source} (${seconds}): ${counts}. Nothing was written.`)
    else if (!result.committed) out.info(`Nothing imported from ${source} (--atomic, ${seconds}): ${counts}. All changes were rolled back.`)
    else if (result.created + result.updated === 0 && result.rejected === 0) out.info(`Nothing changed: every tenant of ${source} is already in the database (${seconds}): ${counts}.`)
    else if (result.created + result.updated === 0) out.info(`Nothing changed from ${source} (${seconds}): ${counts}.`)
    else out.success(`Imported ${source} in ${seconds}${rate}: ${counts}.`)

    if (result.rejected === 0) return
    out.info('Rejected rows:')
    for (const rejection of result.rejections.slice(0, SHOWN_REJECTIONS)) out.info(`  line ${rejection.line}: ${rejection.reason}`)
    const more = result.rejected - Math.min(SHOWN_REJECTIONS, result.rejections.length)
    if (more > 0) out.info(`  ... and ${n(more)} more${rejectPath ? '' : ' (use --reject-file to get them all)'}.`)
    if (rejectPath) out.info(`The rejected rows are in ${rejectPath}, with an error column: fix them and import that file.`)
  }
}

/** The input, and which file it is (standard input too, when a file is redirected to it), so the reject file cannot be it. */
async function openInput(from: string): Promise<{identity?: FileIdentity; input: Readable}> {
  if (from === '-') {
    const info = (() => {
      try {
        return fstatSync(0)
      } catch {
        return undefined
      }
    })()
    return {identity: info?.isFile() ? info : undefined, input: process.stdin}
  }

  const info = await stat(from).catch(() => undefined)
  if (!info) throw new SynthexError(`--from-csv: ${from} does not exist.`, {code: 'FILE_NOT_FOUND', kind: 'usage'})
  if (!info.isFile()) throw new SynthexError(`--from-csv: ${from} is not a file.`, {code: 'FILE_NOT_FOUND', kind: 'usage'})
  return {identity: info, input: createReadStream(from, {highWaterMark: 1 << 18})}
}
