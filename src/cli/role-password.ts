import {Flags} from '@oclif/core'

import {scramSha256Verifier} from '../crypto/scram-verifier.js'
import {SynthexError} from '../errors/synthex-error.js'
import {loginPasswordProblem, type RolePassword} from '../services/access/database-login.js'
import {readSecret} from './secret-input.js'

/**
 * The password of a login synthex makes (`db create-readonly-role`, `db create-serve-role`):
 * from standard input, a file, an environment variable or a hidden prompt, never argv; only
 * its SCRAM-SHA-256 verifier leaves this process.
 */

const SOURCES = ['password-stdin', 'from-env', 'from-file', 'no-password'] as const
const others = (flag: (typeof SOURCES)[number]): string[] => SOURCES.filter((source) => source !== flag)

export const rolePasswordFlags = {
  'from-env': Flags.string({description: 'Read the password from this environment variable.', exclusive: others('from-env'), helpValue: '<NAME>'}),
  'from-file': Flags.string({description: 'Read the password from this file.', exclusive: others('from-file'), helpValue: '<path>'}),
  'no-password': Flags.boolean({description: 'No password (on an existing role: remove it), for servers that authenticate otherwise.', exclusive: others('no-password')}),
  'password-stdin': Flags.boolean({description: 'Read the password from standard input.', exclusive: others('password-stdin')}),
}

export interface RolePasswordFlags {
  readonly 'from-env'?: string
  readonly 'from-file'?: string
  readonly 'no-password'?: boolean
  readonly 'password-stdin'?: boolean
}

/** The flags' password, or a prompt on a terminal for a new role; an existing role keeps its own. */
export async function rolePassword(flags: RolePasswordFlags, role: {canPrompt: boolean; exists: boolean; name: string}): Promise<RolePassword> {
  if (flags['no-password']) return {kind: 'none'}
  const given = flags['password-stdin'] === true || flags['from-env'] !== undefined || flags['from-file'] !== undefined
  if (!given && role.exists) return {kind: 'keep'}
  if (!given && !role.canPrompt) {
    throw new SynthexError(`No password given for the new role ${role.name}.`, {
      code: 'SECRET_INPUT',
      hint: 'Pass it with --password-stdin, --from-env <NAME> or --from-file <path> (never on the command line), or --no-password when the server authenticates otherwise.',
      kind: 'usage',
    })
  }

  const secret = await readSecret(
    {'from-env': flags['from-env'], 'from-file': flags['from-file'], 'value-stdin': flags['password-stdin']},
    {canPrompt: role.canPrompt, prompt: `Password for ${role.name}: `},
  )
  const problem = loginPasswordProblem(secret)
  if (problem) throw new SynthexError(`The password cannot be used: ${problem}.`, {code: 'SECRET_INPUT', kind: 'usage'})
  return {kind: 'set', verifier: scramSha256Verifier(secret)}
}
