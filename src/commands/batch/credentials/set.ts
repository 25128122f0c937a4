import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {ignoreUnknownColumnsFlag} from '../../../cli/common-flags.js'
import {integerFlag} from '../../../cli/integer-flags.js'
import {type ImportVerbs, openImportInput, runBatch} from '../../../cli/import-report.js'
import {ImportProgress, rowsPerSecond} from '../../../cli/progress.js'
import type {CredentialConflict} from '../../../services/credentials/credential-batch.js'
import type {CredentialFileFormat} from '../../../services/import/credential-file.js'
import {type CredentialImportCounts, type CredentialImportResult, importCredentials} from '../../../services/import/credential-import.js'
import {example} from '../../../cli/example.js'

const n = (value: number): string => value.toLocaleString('en-US')

export default class BatchCredentialsSet extends BaseCommand<typeof BatchCredentialsSet> {
  static override databaseStatements = 'bulk' as const
  static override description = `Stores many tenants' credentials from a file (or standard input with -), streaming, a chunk of rows per transaction: thousands of credentials take seconds, not one command each.

The file is CSV with a header row (tenant_id, service, value required; label, and expires_at or expires_in, optional) or JSON lines (one object per line with the same keys), told apart by its first character unless --format says which. Each row follows the rules of \`synthex credentials set\`; a rejected row is reported with its line and every problem at once, exit code 3. Values are encrypted exactly as \`credentials set\` does, and are never shown: not in messages, not in the JSON summary, not in the audit trail, and their column is left blank in the reject file.

Setting a credential to the value it already has changes nothing (counted as unchanged), so the same file can be loaded again. A credential that has another value is a rejected row unless --on-conflict rotate replaces it (the old version is kept, marked rotated) or skip leaves it. The file holds secrets: synthex warns when other users can read it.`

  static override examples = [
    example('--from-file tokens.csv --dry-run', 'Check every row (tenants exist, services, expiry dates) without writing.'),
    example('--from-file tokens.csv', 'Load a CSV such as: tenant_id,service,label,value,expires_in / acme-us,shopify,default,shpat_...,90d.'),
    example('--from-file rotated.jsonl --on-conflict rotate --reject-file rejects.csv', 'Rotate tokens from JSON lines; bad rows land in rejects.csv, their values blanked.'),
    {command: 'vault-export | <%= config.bin %> <%= command.id %> --from-file - --format jsonl --atomic --json', description: 'All or nothing, from standard input, with a JSON summary.'},
  ]

  static override flags = {
    atomic: Flags.boolean({description: 'Store nothing at all if any row is rejected (one transaction).'}),
    'chunk-size': integerFlag({default: 1000, description: 'Rows per chunk (and per transaction).', hidden: true, max: 10_000, min: 1}),
    'dry-run': Flags.boolean({description: 'Check every row against the database, then roll back: nothing is written.'}),
    format: Flags.string({description: 'The file\'s format (default: JSON lines when it starts with {, else CSV).', options: ['csv', 'jsonl']}),
    'from-file': Flags.string({description: 'The file of credentials, or - for standard input.', helpValue: '<file or ->', required: true}),
    'ignore-unknown-columns': ignoreUnknownColumnsFlag(),
    'on-conflict': Flags.string({
      default: 'fail',
      description: 'What to do with a credential that already has another value: fail (reject the row), skip it, or rotate it to the file\'s value.',
      options: ['fail', 'skip', 'rotate'],
    }),
    'reject-file': Flags.string({description: 'Write the rejected rows here (value column blank), with an added error column.', helpValue: '<path>'}),
  }

  static override readsSecret = true
  static override summary = 'Store tenants\' credentials in bulk from a CSV or JSON lines file.'

  #progress: ImportProgress<CredentialImportCounts> | undefined

  async run(): Promise<CredentialImportResult> {
    const {atomic, 'chunk-size': chunkSize, 'dry-run': dryRun, format, 'from-file': from, 'ignore-unknown-columns': ignoreUnknownColumns, 'on-conflict': onConflict, 'reject-file': rejectPath} = this.flags
    const opened = await openImportInput('from-file', from)
    // The mode bits of a file others can read: the secrets in it are not only synthex's to keep.
    const {info} = opened
    if (info && (info.mode & 0o077) !== 0) {
      const how = (info.mode & 0o044) === 0 ? 'changed' : 'read'
      this.output.warn(`${from === '-' ? 'The file on standard input' : from} can be ${how} by other users (mode ${(info.mode & 0o777).toString(8).padStart(3, '0')}) and holds secrets: make it private (chmod 600) or delete it once loaded.`)
    }

    const workspace = await this.workspace()
    const keyring = this.keyring({sealing: true})
    const progress = new ImportProgress<CredentialImportCounts>({describe: describeProgress, live: this.settings.colorAllowed && Boolean(process.stderr.isTTY)})
    this.#progress = progress
    const verbs = (result: CredentialImportResult): ImportVerbs => ({changed: [['created', result.created], ['rotated', result.rotated]], unchanged: [['unchanged', result.unchanged], ['skipped', result.skipped]]})
    return runBatch(this.output, opened, {from, progress, rejectPath, verbs}, async (hooks) =>
      (await this.database()).bulk((session) =>
        importCredentials(session.db, keyring, this.audit, opened.input, {...hooks, atomic, chunkSize, dryRun, format: format as CredentialFileFormat | undefined, ignoreUnknownColumns, onConflict: onConflict as CredentialConflict, workspace}),
      ),
    )
  }

  protected override interruption(): {details: Record<string, unknown>; hint: string; message: string} {
    this.#progress?.stop()
    const {atomic, 'dry-run': dryRun} = this.flags
    if (dryRun) return {details: {created: 0, kept: 0, rotated: 0}, hint: 'Run the dry run again.', message: 'Nothing was written (dry run).'}
    if (atomic) return {details: {created: 0, kept: 0, rotated: 0}, hint: 'Run the same command again.', message: 'Nothing was kept: the run was one transaction (--atomic) and was rolled back.'}
    const created = this.#progress?.counts?.created ?? 0
    const rotated = this.#progress?.counts?.rotated ?? 0
    const kept = created + rotated
    return {
      details: {created, kept, rotated},
      hint: 'Run the same command again to finish the job: credentials already stored with the same value are left unchanged (or add --on-conflict skip).',
      message: `Kept: ${n(kept)} credential${kept === 1 ? '' : 's'} written and committed before the interruption (${n(created)} created, ${n(rotated)} rotated), in whole chunks.`,
    }
  }
}

function describeProgress(counts: Readonly<CredentialImportCounts>, milliseconds: number): string {
  return `Storing credentials: ${n(counts.read)} rows read, ${n(counts.created)} created, ${n(counts.rotated)} rotated, ${n(counts.unchanged)} unchanged, ${n(counts.skipped)} skipped, ${n(counts.rejected)} rejected (${n(rowsPerSecond(counts.read, milliseconds))} rows/s)`
}
