import {SynthexError} from '../errors/synthex-error.js'

/**
 * A command that needs a Postgres server run on the embedded database: a usage error. The
 * embedded database (PGlite) is one superuser session with no logins or other roles, so
 * there is nothing to connect as (see src/cli/embedded-only.ts for the opposite case). `note`
 * says what that means for the command's purpose.
 */
export function notOnEmbedded(what: string, note?: string): SynthexError {
  return new SynthexError(`${what} on a Postgres server, and this command is set to use the embedded database, which has no logins or roles.${note ? ` ${note}` : ''}`, {
    code: 'NOT_SERVER',
    hint: 'Set DATABASE_URL (or SYNTHEX_DATABASE_URL, --database-url) to the Postgres server synthex uses, then run it again.',
    kind: 'usage',
  })
}
