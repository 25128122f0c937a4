import type {Db} from '../../db/schema.js'
import {checkAlerts, type CheckOptions, type CheckResult} from './alert-check.js'

export interface AlertSchedule {
  /** Stops the schedule; a run in progress is asked to stop and awaited. */
  stop(): Promise<void>
}

/**
 * Runs the alert pipeline every `everyMs` inside a long-running process (`serve
 * --check-every`), as cron would run `alerts check-now`: never two runs of this process at
 * once (the next starts `everyMs` after the previous one ended), and across processes the
 * pipeline's own locks and leases keep every notification to one delivery.
 */
export function scheduleAlertChecks(db: () => Db, options: Omit<CheckOptions, 'signal'> & {everyMs: number; onRun: (result: CheckResult | {error: unknown}) => void}): AlertSchedule {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  const tick = (): void => {
    running = (async () => {
      try {
        options.onRun(await checkAlerts(db(), {...options, signal: controller.signal}))
      } catch (error) {
        options.onRun({error})
      }
    })()
    void running.then(() => {
      running = undefined
      if (!controller.signal.aborted) timer = setTimeout(tick, options.everyMs)
    })
  }

  timer = setTimeout(tick, 0)
  return {
    async stop() {
      controller.abort()
      clearTimeout(timer)
      await running
    },
  }
}
