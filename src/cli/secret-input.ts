import {readFile, stat} from 'node:fs/promises'

import {SynthexError} from '../errors/synthex-error.js'
import {MAX_SECRET_BYTES} from '../services/credentials/credentials.js'
import {rawVariable} from '../config/environment.js'

export interface SecretSource {
  readonly 'from-env'?: string
  readonly 'from-file'?: string
  readonly 'value-stdin'?: boolean
}

const ENV_NAME = /^[A-Z_a-z]\w{0,127}$/

const usage = (message: string, hint?: string): SynthexError => new SynthexError(message, {code: 'SECRET_INPUT', hint, kind: 'usage'})

/** One trailing newline is what `echo`, editors and heredocs add; the secret does not have it. */
function withoutTrailingNewline(text: string): string {
  return text.replace(/\r?\n$/, '')
}

function checked(value: string, where: string): string {
  if (value.length === 0) throw usage(`The secret from ${where} is empty.`)
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) throw usage(`The secret from ${where} is larger than ${MAX_SECRET_BYTES / 1024} KiB.`)
  return value
}

/**
 * Reads a secret from where the flags say: standard input, a file, or a named environment
 * variable; on a terminal with none of them, from a hidden prompt. Never from argv, and the
 * value never appears in an error.
 */
export async function readSecret(source: SecretSource, options: {canPrompt: boolean; prompt: string}): Promise<string> {
  if (source['value-stdin']) return checked(withoutTrailingNewline(await readStdin()), 'standard input')
  // Neither the path nor the name is repeated in errors: `--from-env "$TOKEN"` (the value
  // where the name belongs) is an easy slip, and the message would put the secret in logs.
  const file = source['from-file']
  if (file !== undefined) {
    const info = await stat(file).catch(() => undefined)
    if (!info?.isFile()) throw usage('--from-file: the file given does not exist or is not a regular file.', 'The path is not repeated here, in case it is the secret itself.')
    if (info.size > MAX_SECRET_BYTES + 2) throw usage(`The secret file is larger than ${MAX_SECRET_BYTES / 1024} KiB.`)
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw usage(`--from-file: the file cannot be read (${error.code ?? 'error'}).`)
    })
    return checked(withoutTrailingNewline(text), 'the file')
  }

  const name = source['from-env']
  if (name !== undefined) return readEnvSecret('--from-env', name)

  if (!options.canPrompt) {
    throw usage('No secret given.', 'Pass it with --value-stdin, --from-file <path> or --from-env <NAME>; synthex never takes a secret as a command-line argument.')
  }

  return checked(await promptHidden(options.prompt), 'the prompt')
}

/**
 * A name as people write environment variables (SHOPIFY_TOKEN): upper case, digits and _,
 * with no long run of digits. Anything else may be a token pasted where the name belongs
 * (`shpat_...` is a valid name to the shell), so it is never repeated in a message.
 */
const CONVENTIONAL_NAME = /^[A-Z_][\dA-Z_]{0,63}$/

function looksLikeName(name: string): boolean {
  return CONVENTIONAL_NAME.test(name) && !/\d{6}/.test(name)
}

/**
 * The secret in the environment variable named by `flag` (`--from-env`,
 * `--signing-secret-env`). The name is given, never the value: `--from-env "$TOKEN"` is an
 * easy slip, so what was typed is repeated only when it is clearly a variable's name.
 */
export function readEnvSecret(flag: string, name: string): string {
  if (!ENV_NAME.test(name)) {
    throw usage(`${flag} needs the NAME of an environment variable (letters, digits, _), not its value; what was typed is not repeated.`, `Write ${flag} SHOPIFY_TOKEN, not ${flag} "$SHOPIFY_TOKEN".`)
  }

  const value = rawVariable(name)
  const named = looksLikeName(name)
  if ((value === undefined || value === '') && named) throw usage(`${flag}: the environment variable ${name} is not set or is empty.`)
  if (value === undefined || value === '') {
    throw usage(
      `${flag}: no environment variable of the name given is set, and the name is not repeated here: it looks more like a secret than a name.`,
      `${flag} takes the NAME of the variable that holds the secret, e.g. ${flag} SHOPIFY_TOKEN.`,
    )
  }

  return checked(value, named ? `$${name}` : 'the environment variable')
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length
    if (size > MAX_SECRET_BYTES + 2) throw usage(`The secret on standard input is larger than ${MAX_SECRET_BYTES / 1024} KiB.`)
    chunks.push(chunk as Buffer)
  }

  return Buffer.concat(chunks).toString('utf8')
}

/** A prompt that echoes nothing, like `passwd`; Ctrl-C cancels the command. */
async function promptHidden(prompt: string): Promise<string> {
  const {stdin, stderr} = process
  // Echo off before the prompt shows: a secret typed or pasted the moment it appears must
  // not be echoed by the terminal.
  stdin.setRawMode(true)
  stderr.write(prompt)
  stdin.resume()
  stdin.setEncoding('utf8')
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = ''
      const onData = (chunk: string): void => {
        for (const character of chunk) {
          if (character === '\r' || character === '\n') {
            stdin.off('data', onData)
            resolve(value)
            return
          }

          if (character === '\u0003') {
            stdin.off('data', onData)
            reject(new SynthexError('Cancelled.', {code: 'INTERRUPTED', kind: 'interrupted'}))
            return
          }

          value = character === '\u007F' || character === '\b' ? value.slice(0, -1) : value + character
        }
      }

      stdin.on('data', onData)
    })
  } finally {
    stdin.setRawMode(false)
    stdin.pause()
    stderr.write('\n')
  }
}
