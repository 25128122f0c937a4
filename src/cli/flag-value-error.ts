import {SynthexError} from '../errors/synthex-error.js'

/**
 * A flag or argument whose value cannot be used: a usage error (exit 2) that names the flag
 * and what it accepts. It quotes what was typed, except in commands that read a secret,
 * where `quietMessage` is shown instead: a secret pasted into the wrong flag must not be
 * echoed into logs.
 */
export class FlagValueError extends SynthexError {
  readonly quietMessage: string

  /**
   * `problem` completes "<flag>: <value> ...", e.g. `is out of range: give a whole number
   * from 1 to 100`. `said`, when given, is the whole message, for every command: the caller
   * vouches that it holds nothing that could be a secret.
   */
  constructor(flag: string, value: string, problem: string, said?: string) {
    super(said ?? `${flag}: "${value}" ${problem}.`, {code: 'USAGE', details: {flag}, kind: 'usage'})
    this.quietMessage = said ?? `${flag}: the value given (not repeated here, in case it is a secret) ${problem}.`
  }
}
