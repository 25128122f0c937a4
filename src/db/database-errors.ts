import {SynthexError} from '../errors/synthex-error.js'

/** The database could not be reached, refused us, or stopped answering or was lost midway. */
export class DatabaseUnavailableError extends SynthexError {
  constructor(message: string, options: {cause?: unknown; details?: Record<string, unknown>; hint?: string} = {}) {
    super(message, {cause: options.cause, code: 'DATABASE_UNAVAILABLE', details: options.details, hint: options.hint})
  }
}

/** A server database whose schema is behind this version of synthex. */
export class MigrationsPendingError extends SynthexError {
  constructor(readonly pending: readonly string[]) {
    super(
      pending.length === 1
        ? `The database has a pending migration (${pending[0]}).`
        : `The database has ${pending.length} pending migrations (${pending[0]} ... ${pending.at(-1)}).`,
      {
        code: 'MIGRATIONS_PENDING',
        details: {pending},
        hint: 'Run `synthex db migrate` (with the same DATABASE_URL) to bring it up to date.',
      },
    )
  }
}

/** Another process holds the embedded database and did not let go in time. */
export class DatabaseLockedError extends SynthexError {
  constructor(message: string, details: Record<string, unknown>, hint: string) {
    super(message, {code: 'DATABASE_LOCKED', details, hint})
  }
}
