import type {ControlledTransaction} from 'kysely'

import type {Db, Schema} from '../../db/schema.js'
import type {Workspace} from '../workspaces/workspaces.js'
import type {Rejection} from './tenant-row.js'

/**
 * What every batch run (tenant import, tenant changes, credential import) shares: how it is
 * asked for, how its one transaction is kept or dropped, and the shape of its outcome.
 */
export interface BatchOptions {
  /** All or nothing: one transaction, rolled back if any row is rejected. */
  readonly atomic?: boolean
  readonly chunkSize?: number
  /** Validate and check everything against the database, then roll back. */
  readonly dryRun?: boolean
  /** Skip columns the file should not have (notes, owner...) instead of refusing the file. */
  readonly ignoreUnknownColumns?: boolean
  /** Called with the file's header (as written) once it has been read and checked. */
  readonly onHeader?: (header: readonly string[]) => void
  readonly onRejected?: (rejection: Rejection) => Promise<void> | void
  /** The workspace of rows that do not name one. */
  readonly workspace: Workspace
}

export interface BatchOutcome {
  readonly atomic: boolean
  /** Whether the changes were kept: false for a dry run, and for an atomic run with rejected rows. */
  readonly committed: boolean
  readonly dryRun: boolean
  readonly durationMs: number
  /** Columns skipped under --ignore-unknown-columns. */
  readonly ignoredColumns: readonly string[]
  /** The first rejections (all of them are passed to `onRejected`). */
  readonly rejections: ReadonlyArray<Omit<Rejection, 'raw'>>
  readonly rejectionsOmitted: number
}

const MAX_REPORTED_REJECTIONS = 1000

/**
 * A run's rejected rows: each counted and passed on to `onRejected` (the reject file), the
 * first thousand kept for the summary, in line order.
 */
export class Rejections {
  omitted = 0
  readonly #kept: Array<Omit<Rejection, 'raw'>> = []
  readonly #counts: {rejected: number}
  readonly #onRejected: BatchOptions['onRejected']

  constructor(counts: {rejected: number}, onRejected: BatchOptions['onRejected']) {
    this.#counts = counts
    this.#onRejected = onRejected
  }

  get reported(): BatchOutcome['rejections'] {
    return [...this.#kept].sort((a, b) => a.line - b.line)
  }

  add(rejection: Rejection): Promise<void> | void {
    this.#counts.rejected++
    if (this.#kept.length < MAX_REPORTED_REJECTIONS) this.#kept.push({column: rejection.column, line: rejection.line, reason: rejection.reason})
    else this.omitted++
    return this.#onRejected?.(rejection)
  }
}

/** An atomic or dry run is one transaction over every chunk; otherwise each chunk commits on its own (undefined). */
export async function startSingleTransaction(db: Db, options: BatchOptions): Promise<ControlledTransaction<Schema> | undefined> {
  return options.atomic || options.dryRun ? db.startTransaction().execute() : undefined
}

/** Ends the run's one transaction: rolled back for a dry run or when rows were rejected. Returns whether the changes were kept. */
export async function finishSingleTransaction(single: ControlledTransaction<Schema> | undefined, options: BatchOptions, rejected: number): Promise<boolean> {
  if (!single) return !options.dryRun
  if (options.dryRun || rejected > 0) {
    await single.rollback().execute()
    return false
  }

  await single.commit().execute()
  return true
}

/** The outcome's common part. */
export function batchOutcome(options: BatchOptions, committed: boolean, startedAt: number, ignoredColumns: readonly string[], rejections: Rejections): BatchOutcome {
  return {atomic: Boolean(options.atomic), committed, dryRun: Boolean(options.dryRun), durationMs: Math.round(performance.now() - startedAt), ignoredColumns, rejections: rejections.reported, rejectionsOmitted: rejections.omitted}
}
