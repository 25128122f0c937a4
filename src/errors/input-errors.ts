import {SynthexError} from './synthex-error.js'

/** Something named by the user does not exist (exit 1). */
export class NotFoundError extends SynthexError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super(message, {code: 'NOT_FOUND', details, hint})
  }
}

/** The change collides with what exists, e.g. a tenant id already taken (exit 1). */
export class ConflictError extends SynthexError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super(message, {code: 'CONFLICT', details, hint})
  }
}

/** One reason an input was refused, named by the field (CSV column) it concerns. */
export interface FieldIssue {
  readonly field: string
  readonly message: string
}

/** Input that breaks the rules; nothing was written (exit 2). */
export class InvalidInputError extends SynthexError {
  readonly issues: readonly FieldIssue[]

  constructor(issues: readonly FieldIssue[], hint?: string) {
    const summary = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')
    super(`Invalid input${issues.length > 1 ? ` (${issues.length} problems)` : ''}: ${summary}.`, {code: 'INVALID_INPUT', details: {issues}, hint, kind: 'usage'})
    this.issues = issues
  }
}
