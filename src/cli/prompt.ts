import {SynthexError} from '../errors/synthex-error.js'

/** Whether a person is there to answer: a terminal on both ends, not CI, not `--json`. */
export function canPrompt(options: {isCI: boolean; json: boolean}): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !options.isCI && !options.json
}

/** Asks one question on stderr and returns the trimmed answer; Ctrl-C cancels the command. */
export async function ask(question: string): Promise<string> {
  // Loaded here: every command imports this module (canPrompt), few ever ask.
  const {createInterface} = await import('node:readline/promises')
  const readline = createInterface({input: process.stdin, output: process.stderr, terminal: true})
  const cancelled = new Promise<never>((_, reject) => {
    readline.once('SIGINT', () => reject(new SynthexError('Cancelled.', {code: 'INTERRUPTED', kind: 'interrupted'})))
  })
  try {
    return (await Promise.race([readline.question(question), cancelled])).trim()
  } finally {
    readline.close()
  }
}
