import {randomUUID} from 'node:crypto'

import type {ControlledTransaction} from 'kysely'

import type {Db, Schema} from '../../db/schema.js'
import {queueWebhookEvents} from '../webhooks/webhook-queue.js'
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

/** What a finished run tells webhook subscribers (`batch.completed`): counts, never rows. */
export interface BatchCompletion {
  /** The command: `tenants create`, `tenants update`, `credentials set`... */
  readonly batch: string
  readonly counts: Readonly<Record<string, number>>
  /** The run's id where it has one (the tenant import's, in its audit events); a new one otherwise. */
  readonly runId?: string
  /** Where the rows came from (a file name, or `stdin`), as the audit trail says. */
  readonly source?: string
}

/**
 * finishSingleTransaction, and the run's `batch.completed` event (README "Outbound webhooks"):
 * one event for the whole run, however many rows (the rows' own audit events, such as an
 * import's `tenants.imported` per chunk, are not tenant.created events: migrations/0015_webhooks.sql).
 *
 * - A dry run changed nothing: no event.
 * - An atomic run that commits: queued in its one transaction, so it is sent only if the rows are kept.
 * - An atomic run rolled back for rejected rows: an event with `committed: false` (a
 *   subscriber tracking imports wants to know that one was refused), queued on its own.
 * - Other runs commit chunk by chunk: the event is queued once the last one is written.
 * A run that stops early (the database lost, a signal) never gets here and queues nothing:
 * it did not complete, and the run that finishes the job (the same command again) does.
 */
export async function completeBatch(db: Db, single: ControlledTransaction<Schema> | undefined, options: BatchOptions, rejected: number, completion: BatchCompletion): Promise<boolean> {
  const event = (committed: boolean) => [
    {
      data: {
        atomic: Boolean(options.atomic),
        batch: completion.batch,
        committed,
        counts: completion.counts,
        runId: completion.runId ?? randomUUID(),
        ...(completion.source === undefined ? {} : {source: completion.source}),
        workspace: options.workspace.slug,
      },
      type: 'batch.completed' as const,
      workspaceId: options.workspace.id,
    },
  ]
  if (options.dryRun) return finishSingleTransaction(single, options, rejected)
  if (single && rejected === 0) {
    try {
      await queueWebhookEvents(single, event(true))
    } catch (error) {
      await single.rollback().execute().catch(() => {})
      throw error
    }
  }

  const committed = await finishSingleTransaction(single, options, rejected)
  if (!single || !committed) await queueWebhookEvents(db, event(committed))
  return committed
}

/** The outcome's common part. */
export function batchOutcome(options: BatchOptions, committed: boolean, startedAt: number, ignoredColumns: readonly string[], rejections: Rejections): BatchOutcome {
  return {atomic: Boolean(options.atomic), committed, dryRun: Boolean(options.dryRun), durationMs: Math.round(performance.now() - startedAt), ignoredColumns, rejections: rejections.reported, rejectionsOmitted: rejections.omitted}
}
