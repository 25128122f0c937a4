import type {Db} from '../../db/schema.js'
import {runEvery, type Schedule} from '../../util/run-every.js'
import {checkAlerts, type CheckOptions, type CheckResult} from './alert-check.js'

/**
 * Runs the alert pipeline every `everyMs` inside a long-running process (`serve
 * --check-every`), as cron would run `alerts check-now`: never two runs of this process at
 * once (the next starts `everyMs` after the previous one ended), and across processes the
 * pipeline's own locks and leases keep every notification to one delivery.
 */
export function scheduleAlertChecks(db: () => Db, options: Omit<CheckOptions, 'signal'> & {everyMs: number; onRun: (result: CheckResult | {error: unknown}) => void}): Schedule {
  return runEvery(options.everyMs, async (signal) => {
    try {
      options.onRun(await checkAlerts(db(), {...options, signal}))
    } catch (error) {
      options.onRun({error})
    }
  })
}
