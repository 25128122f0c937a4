import type {ImportCounts} from '../services/import/tenant-import.js'
import type {Writable} from './output.js'
import {thousands} from '../text/thousands.js'

const TTY_INTERVAL_MS = 100
const LOG_INTERVAL_MS = 5000

/**
 * Import progress on stderr: a live line with rows/s on a terminal, and in logs (CI, cron) a
 * plain line every few seconds at most. `describe` says what the counts are (tenants by
 * default).
 */
export class ImportProgress<C extends {read: number} = ImportCounts> {
  readonly #describe: (counts: Readonly<C>, milliseconds: number) => string
  readonly #live: boolean
  #counts: Readonly<C> | undefined
  #last = 0
  readonly #started = performance.now()
  readonly #stderr: Writable
  #stopped = false

  constructor(options: {describe?: (counts: Readonly<C>, milliseconds: number) => string; live: boolean; stderr?: Writable}) {
    this.#live = options.live
    this.#stderr = options.stderr ?? process.stderr
    this.#describe = options.describe ?? (describeProgress as unknown as (counts: Readonly<C>, milliseconds: number) => string)
  }

  /** Clears the live line before the summary is printed. */
  done(): void {
    if (this.#live && this.#last > 0 && !this.#stopped) this.#stderr.write('\r\u001B[K')
    this.#last = 0
  }

  /** For good: the run was interrupted, and nothing may follow its report. */
  stop(): void {
    this.done()
    this.#stopped = true
  }

  /** The last counts reported: what an interrupted run had done when it stopped. */
  get counts(): Readonly<C> | undefined {
    return this.#counts
  }

  update(counts: Readonly<C>): void {
    this.#counts = {...counts}
    if (this.#stopped) return
    const now = performance.now()
    if (now - this.#last < (this.#live ? TTY_INTERVAL_MS : LOG_INTERVAL_MS)) return
    if (!this.#live && now - this.#started < LOG_INTERVAL_MS) return
    this.#last = now
    const text = this.#describe(counts, now - this.#started)
    this.#stderr.write(this.#live ? `\r\u001B[K${text}` : `${text}\n`)
  }
}

export function rowsPerSecond(rows: number, milliseconds: number): number {
  return milliseconds > 0 ? Math.round((rows * 1000) / milliseconds) : rows
}

const count = thousands

export function describeProgress(counts: Readonly<ImportCounts>, milliseconds: number): string {
  return `Importing: ${count(counts.read)} rows read, ${count(counts.created)} created, ${count(counts.updated)} updated, ${count(counts.skipped)} skipped, ${count(counts.rejected)} rejected (${count(rowsPerSecond(counts.read, milliseconds))} rows/s)`
}
