import {terminalLine} from '../text/terminal-text.js'
import type {Writable} from './output.js'

export interface Spinner {
  stop(): void
  update(text: string): void
}

const NO_SPINNER: Spinner = {stop() {}, update() {}}

/**
 * A spinner on stderr when `enabled` (a TTY, not CI, not `--json`, colour allowed);
 * otherwise the text is printed once as a plain line so that logs still say what is
 * happening. `ora` is loaded only when a spinner is really drawn.
 */
export function startSpinner(shown: string, options: {enabled: boolean; stderr?: Writable}): Spinner {
  const stderr = options.stderr ?? process.stderr
  // The text can name a path from the environment ($SYNTHEX_HOME).
  const text = terminalLine(shown)
  if (!options.enabled) {
    stderr.write(`${text}\n`)
    return NO_SPINNER
  }

  let stopped = false
  let current = text
  let spinner: undefined | {stop(): unknown; text: string}
  void import('ora').then(({default: ora}) => {
    if (stopped) return
    spinner = ora({discardStdin: false, stream: process.stderr, text: current}).start()
  })
  return {
    stop() {
      stopped = true
      spinner?.stop()
    },
    update(next) {
      current = terminalLine(next)
      if (spinner) spinner.text = current
    },
  }
}

export {NO_SPINNER}
