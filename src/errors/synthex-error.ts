/**
 * How an error ends a command. The CLI maps each kind to exactly one exit code
 * (README, "Output and exit codes"): `usage` -> 2, `runtime` -> 1, `verdict` -> 3, `interrupted` -> 130.
 * Lower layers pick a kind; they never pick a number.
 */
export type ErrorKind = 'interrupted' | 'runtime' | 'usage' | 'verdict'

export interface SynthexErrorOptions {
  readonly cause?: unknown
  /** Stable, SCREAMING_SNAKE identifier that scripts can branch on. */
  readonly code: string
  /** Extra machine-readable facts (never secrets), included in `--json` errors. */
  readonly details?: Readonly<Record<string, unknown>>
  /** One sentence telling the user what to do next. */
  readonly hint?: string
  readonly kind?: ErrorKind
}

/**
 * The base of every error synthex raises on purpose. Anything else that reaches the CLI
 * is treated as a bug in synthex and reported as such.
 */
export class SynthexError extends Error {
  readonly code: string
  readonly details: Readonly<Record<string, unknown>> | undefined
  readonly hint: string | undefined
  readonly kind: ErrorKind

  constructor(message: string, options: SynthexErrorOptions) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.code = options.code
    this.kind = options.kind ?? 'runtime'
    this.hint = options.hint
    this.details = options.details
  }
}
