import {SynthexError} from '../errors/synthex-error.js'

/** A setting from the environment or a global flag has a value synthex cannot use. */
export class ConfigError extends SynthexError {
  /** The environment variable or flag that holds the bad value, e.g. `DATABASE_URL`. */
  readonly setting: string

  constructor(setting: string, expected: string, hint?: string) {
    super(`Invalid ${setting}: ${expected}.`, {code: 'INVALID_CONFIG', details: {setting}, hint, kind: 'usage'})
    this.setting = setting
  }
}
