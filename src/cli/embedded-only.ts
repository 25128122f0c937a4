import {SynthexError} from '../errors/synthex-error.js'

/** `db start` and `db stop` on a command set to use a Postgres server: a usage error. */
export function notEmbedded(what: string): SynthexError {
  return new SynthexError(`${what}, and this command is set to use a Postgres server, which is shared already.`, {
    code: 'NOT_EMBEDDED',
    hint: 'Unset DATABASE_URL (and SYNTHEX_DATABASE_URL, --database-url) to use the embedded database in $SYNTHEX_HOME.',
    kind: 'usage',
  })
}
