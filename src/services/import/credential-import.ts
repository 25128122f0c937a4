import type {Readable} from 'node:stream'


import type {Keyring} from '../../crypto/keyring.js'
import {DatabaseUnavailableError} from '../../db/database-errors.js'
import type {Db} from '../../db/schema.js'
import {type CredentialConflict, setCredentialBatch} from '../credentials/credential-batch.js'
import type {Audit} from '../events/events.js'
import {type CredentialColumn, type CredentialFileFormat, openCredentialFile, SECRET_COLUMN} from './credential-file.js'
import {type CredentialCandidate, checkCredentialRow, credentialKey} from './credential-row.js'
import {type CsvRow, normaliseColumnName} from './tenant-csv.js'
import type {Rejection} from './tenant-row.js'
import {batchOutcome, type BatchOptions, type BatchOutcome, completeBatch, Rejections, startSingleTransaction} from './batch-run.js'

/**
 * `batch credentials set --from-file`: streams a file of credentials (CSV or JSON lines) into
 * the database, a chunk per transaction, the way `batch tenants create` streams tenants:
 * rows checked line by line (every problem of a row at once), rejected rows reported with
 * their line and reason and written to the reject file, `--atomic` and `--dry-run` as one
 * transaction rolled back. Setting a credential to the value it already has changes
 * nothing (counted `unchanged`), so a file can be loaded again safely.
 *
 * The values are secrets: they are sealed before they reach the database, never in a reason,
 * and blanked in every row handed back for the reject file.
 */

export interface CredentialImportCounts {
  created: number
  read: number
  rejected: number
  rotated: number
  skipped: number
  unchanged: number
}

export interface CredentialImportResult extends Readonly<CredentialImportCounts>, BatchOutcome {
  readonly format: CredentialFileFormat
  readonly onConflict: CredentialConflict
}

export interface CredentialImportOptions extends BatchOptions {
  readonly format?: CredentialFileFormat
  readonly now?: Date
  readonly onConflict?: CredentialConflict
  readonly onProgress?: (counts: Readonly<CredentialImportCounts>) => void
}

/** A chunk is sealed and written in one transaction: big enough to pay few round trips, small enough to hold few tenant locks. */
const DEFAULT_CHUNK_SIZE = 1000

export async function importCredentials(db: Db, keyring: Keyring, audit: Audit, input: Readable, options: CredentialImportOptions): Promise<CredentialImportResult> {
  const started = performance.now()
  const now = options.now ?? new Date()
  const onConflict = options.onConflict ?? 'fail'
  const file = await openCredentialFile(input, {format: options.format, ignoreUnknownColumns: options.ignoreUnknownColumns})
  options.onHeader?.(file.header)
  const secretAt = file.header.findIndex((name) => normaliseColumnName(name) === SECRET_COLUMN)
  const counts: CredentialImportCounts = {created: 0, read: 0, rejected: 0, rotated: 0, skipped: 0, unchanged: 0}
  const rejections = new Rejections(counts, options.onRejected)
  const reject = (rejection: Rejection): Promise<void> | void => rejections.add(rejection)

  const single = await startSingleTransaction(db, options)
  // A credential named twice is a mistake in the file whichever chunk the second one is in.
  // Credential files are thousands of rows, not millions: the keys seen fit in memory.
  const seen = new Map<string, number>()
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  let chunk: CredentialCandidate[] = []
  const kept = {created: 0, rotated: 0}

  const write = async (rows: CredentialCandidate[]): Promise<void> => {
    const work = (trx: Db) => setCredentialBatch(trx, keyring, options.workspace, audit, rows, {now, onConflict})
    const outcomes = single ? await work(single) : await db.transaction().execute(work)
    for (const [index, outcome] of outcomes.entries()) {
      const row = rows[index] as CredentialCandidate
      if (outcome.kind === 'rejected') await reject({column: outcome.column, line: row.line, raw: row.raw, reason: outcome.reason})
      else counts[outcome.kind]++
      if (!single && (outcome.kind === 'created' || outcome.kind === 'rotated')) kept[outcome.kind]++
    }

    options.onProgress?.(counts)
  }

  try {
    for await (const batch of file.rows) {
      for (const row of batch) {
        counts.read++
        const checked = checkCredentialRow(row, withoutSecret(row, secretAt), now)
        if (!checked.ok) {
          await reject(checked.rejection)
          continue
        }

        const key = credentialKey(checked.candidate)
        const first = seen.get(key)
        if (first !== undefined) {
          await reject({
            column: 'tenant_id',
            line: row.line,
            raw: checked.candidate.raw,
            reason: `tenant_id: tenant ${checked.candidate.tenantId}, service ${checked.candidate.service}, label ${checked.candidate.label} is a duplicate of line ${first}`,
          })
          continue
        }

        seen.set(key, row.line)
        chunk.push(checked.candidate)
        if (chunk.length >= chunkSize) {
          const rows = chunk
          chunk = []
          await write(rows)
        }
      }

      options.onProgress?.(counts)
    }

    if (chunk.length > 0) await write(chunk)
  } catch (error) {
    await single?.rollback().execute().catch(() => {})
    if (error instanceof DatabaseUnavailableError) throw interrupted(error, kept, options)
    throw error
  }

  const committed = await completeBatch(db, single, options, counts.rejected, {batch: 'credentials set', counts: {...counts}})
  // Rows refused by their own checks are reported as they are read, the others once their
  // chunk is written: Rejections gives them back in line order.
  return {...counts, ...batchOutcome(options, committed, started, file.ignored, rejections), format: file.format, onConflict}
}

/**
 * The row as the reject file gets it: the secret's cell blanked. A row whose fields do not
 * line up with the header cannot say which cell is the secret, so none of it is kept.
 */
function withoutSecret(row: CsvRow<CredentialColumn>, secretAt: number): string[] {
  if (row.problem && row.raw.length > 0 && (secretAt === -1 || row.values[SECRET_COLUMN] === undefined)) return row.raw.map(() => '')
  return row.raw.map((field, index) => (index === secretAt ? '' : field))
}

function interrupted(cause: DatabaseUnavailableError, kept: {created: number; rotated: number}, options: CredentialImportOptions): DatabaseUnavailableError {
  const done = kept.created + kept.rotated
  const what =
    options.dryRun || options.atomic
      ? 'The run was one transaction and was rolled back: nothing was written.'
      : `The run stopped: ${done.toLocaleString('en-US')} credential${done === 1 ? '' : 's'} had been written and committed, in whole chunks, and are kept.`
  return new DatabaseUnavailableError(`${cause.message} ${what}`, {
    cause,
    details: options.dryRun || options.atomic ? {kept: 0} : {...kept, kept: done},
    hint: 'When the database is back, run the same command again: credentials already set to the same value are left unchanged.',
  })
}
