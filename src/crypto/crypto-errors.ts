import {SynthexError} from '../errors/synthex-error.js'

/**
 * A sealed value that cannot be opened. Names what it belonged to (the caller's `subject`,
 * e.g. `tenant acme-us, service shopify`) and why, never the value or the key.
 */
export class UnsealError extends SynthexError {
  constructor(subject: string, reason: string, hint: string, details: Record<string, unknown> = {}) {
    super(`Cannot decrypt the credential of ${subject}: ${reason}.`, {code: 'CREDENTIAL_UNREADABLE', details, hint})
  }
}

/** No encryption key where one is required (a server database with no key configured). */
export class MissingKeyError extends SynthexError {
  constructor(message: string, hint: string) {
    super(message, {code: 'ENCRYPTION_KEY_MISSING', hint})
  }
}
