export interface Schedule {
  /** Stops the schedule; a run in progress is asked to stop (its signal aborts) and awaited. */
  stop(): Promise<void>
}

/**
 * Runs `run` now and then `everyMs` after each run ends, inside a long-running process
 * (`serve --check-every`, `--verify-every`), as cron would: never two runs at once, however
 * long one takes. A run's failure is its own to report; the schedule goes on.
 */
export function runEvery(everyMs: number, run: (signal: AbortSignal) => Promise<void>): Schedule {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  const tick = (): void => {
    running = run(controller.signal).catch(() => {})
    void running.then(() => {
      running = undefined
      if (!controller.signal.aborted) timer = setTimeout(tick, everyMs)
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
