import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

let collect: (() => void) | null | undefined

/**
 * Runs a full garbage collection, when the runtime lets us.
 *
 * A streaming import keeps each chunk alive while the previous one is written, long enough
 * for V8 to promote it to the old generation; at a high allocation rate V8 then grows the
 * old generation rather than collect it, so peak memory would grow with the file (249 MiB
 * at a million rows). Collecting every few chunks keeps it flat. `--expose-gc` set at run
 * time only reaches new contexts, hence the `gc` function is taken from one; where that is
 * not possible this does nothing.
 */
export function collectGarbage(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      const gc = runInNewContext('gc') as unknown
      collect = typeof gc === 'function' ? (gc as () => void) : null
    } catch {
      collect = null
    }
  }

  collect?.()
}
