import {Args} from '@oclif/core'

import {InvalidInputError} from '../errors/input-errors.js'
import {SynthexError} from '../errors/synthex-error.js'

/** The `<email>` argument of every command about one user. */
export const userEmailArg = Args.string({description: "The user's email address (any case: addresses are compared whatever their case).", required: true})

/** The service's field names as the user typed them (src/services/users/users.ts names them `email`, `role`, `workspace`, `tenant`). */
const FLAG_OF: Readonly<Record<string, string>> = {email: '<email>', role: '--role', tenant: '--tenant', workspace: '--workspace'}

/** Re-words the users service's input errors in terms of the command line. */
export async function withUserFlagNames<R>(work: () => Promise<R>): Promise<R> {
  try {
    return await work()
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error
    throw new InvalidInputError(
      error.issues.map((issue) => ({...issue, field: FLAG_OF[issue.field] ?? issue.field})),
      error.hint,
    )
  }
}

/**
 * `--workspace` given with a client but no `--tenant`: with a client, --workspace only says
 * where its tenants are, so alone it would assign nothing.
 */
export function workspaceWithoutTenant(email: string): SynthexError {
  return new SynthexError(`--workspace: "${email}" is a client, and a client is assigned tenants, not workspaces.`, {
    code: 'USAGE',
    hint: 'Name its tenants with --tenant <tenant-id>; --workspace then says which workspace they are in (default: SYNTHEX_WORKSPACE, or default).',
    kind: 'usage',
  })
}
