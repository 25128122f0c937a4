/**
 * Delivery outcomes written in batches, for the outboxes that send over the network (alert
 * notifications: src/services/alerts/delivery/alert-delivery.ts; webhooks:
 * src/services/webhooks/webhook-delivery.ts). Outcomes that arrive within `lingerMs` of the
 * first waiting one are written together, one statement per batch.
 *
 * Outcomes that say something was delivered (`first`) go first, in a statement of their own:
 * what arrived is recorded as such, and never sent again, whatever happens to the outcomes
 * beside it. A batch the database refuses is written again row by row, so that only a row at
 * fault is left unrecorded (`onUnrecorded`), never dropped silently; a database that stopped
 * answering is not asked row by row, each after its own wait. Writes never overlap and never
 * reject: the chain goes on whatever one of them meets.
 */
export class OutcomeBatches<T> {
  #flushing: Promise<void> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined
  #waiting: T[] = []

  constructor(
    private readonly options: {
      readonly first: (outcome: T) => boolean
      readonly lingerMs: number
      readonly onUnrecorded: (outcomes: readonly T[], error: unknown) => void
      readonly write: (batch: readonly T[]) => Promise<void>
    },
  ) {}

  add(outcomes: readonly T[]): void {
    if (outcomes.length === 0) return
    this.#waiting.push(...outcomes)
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined
      this.#flush()
    }, this.options.lingerMs)
  }

  /** Writes what is waiting now, and waits for every write so far. */
  async settle(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#flush()
    await this.#flushing
  }

  #flush(): void {
    const batch = this.#waiting
    if (batch.length === 0) return
    this.#waiting = []
    const first = batch.filter((outcome) => this.options.first(outcome))
    const others = batch.filter((outcome) => !this.options.first(outcome))
    this.#flushing = this.#flushing.then(async () => {
      await this.#write(first)
      await this.#write(others)
    })
  }

  async #write(batch: readonly T[]): Promise<void> {
    if (batch.length === 0) return
    let error: unknown
    try {
      await this.options.write(batch)
      return
    } catch (caught) {
      error = caught
    }

    if (batch.length > 1 && !databaseUnavailable(error)) {
      for (const [index, outcome] of batch.entries()) {
        try {
          await this.options.write([outcome])
        } catch (caught) {
          this.options.onUnrecorded([outcome], caught)
          if (databaseUnavailable(caught)) {
            this.options.onUnrecorded(batch.slice(index + 1), caught)
            return
          }
        }
      }

      return
    }

    this.options.onUnrecorded(batch, error)
  }
}

/**
 * The database itself is failing (connection lost, shut down, out of resources, a statement
 * timeout), rather than one row's values: SQLSTATE classes 08, 53, 57, 58 and XX, or an error
 * of the driver with no SQLSTATE. A value the driver cannot send (a RangeError, a TypeError)
 * is the row's.
 */
export function databaseUnavailable(error: unknown): boolean {
  if (error instanceof RangeError || error instanceof TypeError) return false
  const code = (error as {code?: unknown} | null | undefined)?.code
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true
  return ['08', '53', '57', '58', 'XX'].includes(code.slice(0, 2))
}
