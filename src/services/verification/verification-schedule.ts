import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'
import {ConflictError} from '../../errors/input-errors.js'
import {runEvery, type Schedule} from '../../util/run-every.js'
import {type RunOptions, runVerification, scopeKey, VerificationNotDue, type VerificationRunResult} from './verification-run.js'

/** How often a schedule asks whether a run is due: a look at one row. */
const LOOK_EVERY_MS = 60_000

/** A run's result, or why none ran: another process holds the run, or (said once, at start) none is due yet. */
export type ScheduledVerification = VerificationRunResult | {error: unknown} | {skipped: 'in_progress' | 'not_due'}

/**
 * `serve --verify-every`: verifies the whole fleet when its last fleet run (by anyone: this
 * process, another `serve`, cron's `credentials verify --all`) started longer ago than
 * `everyMs`, or stopped before finishing and holds no lease any more (then it is resumed).
 * Several processes with the same schedule verify each credential once per period: the
 * first claims the run (verification_runs' lease), the others find it held.
 */
export function scheduleVerification(db: () => Db, options: Omit<RunOptions, 'restart' | 'signal'> & {everyMs: number; onRun: (result: ScheduledVerification) => void}): Schedule {
  let first = true
  return runEvery(Math.min(options.everyMs, LOOK_EVERY_MS), async (signal) => {
    const said = first
    first = false
    try {
      if (!(await verificationDue(db(), options.everyMs))) {
        if (said) options.onRun({skipped: 'not_due'})
        return
      }

      options.onRun(await runVerification(db(), {}, {...options, dueAfterMs: options.everyMs, signal}))
    } catch (error) {
      if (error instanceof VerificationNotDue) {
        if (said) options.onRun({skipped: 'not_due'})
        return
      }

      options.onRun(error instanceof ConflictError ? {skipped: 'in_progress'} : {error})
    }
  })
}

/** Whether the fleet's last run is older than `everyMs`, or unfinished and abandoned. */
export async function verificationDue(db: Db, everyMs: number): Promise<boolean> {
  const {rows} = await sql<{due: boolean}>`
    select case
      when finished_at is null then claimed_until is null or claimed_until <= now()
      else started_at <= now() - make_interval(secs => ${everyMs / 1000})
    end as due
    from verification_runs where scope = ${scopeKey({})}
    order by started_at desc limit 1`.execute(db)
  return rows[0]?.due ?? true
}
