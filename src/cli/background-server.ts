import {spawn} from 'node:child_process'
import {closeSync, openSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {embeddedServerAnswers, embeddedSocketDir} from '../db/embedded-socket.js'
import {makePrivateDirectory} from '../db/private-home.js'
import {SynthexError} from '../errors/synthex-error.js'

/** Where a background server writes what it would print: `$SYNTHEX_HOME/run/server.log`. */
export function serverLogPath(home: string): string {
  return join(embeddedSocketDir(home), 'server.log')
}

/**
 * Starts `synthex db start --foreground` as a daemon (its own session, so closing the
 * terminal does not stop it; output appended to the log) and waits until its socket
 * answers. A server that exits first failed: its last log lines say why.
 */
export async function startBackgroundServer(options: {args: readonly string[]; home: string; timeoutMs: number}): Promise<{log: string; pid: number}> {
  makePrivateDirectory(embeddedSocketDir(options.home))
  const log = serverLogPath(options.home)
  const fd = openSync(log, 'a', 0o600)
  const logStart = readFileSync(log).length
  const child = spawn(process.execPath, [process.argv[1] as string, 'db', 'start', '--foreground', ...options.args], {
    detached: true,
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  let exited: number | null | undefined
  child.once('exit', (code) => (exited = code))
  child.unref()
  const deadline = Date.now() + options.timeoutMs
  while (Date.now() < deadline) {
    if (await embeddedServerAnswers(options.home, 500)) return {log, pid: child.pid as number}
    if (exited !== undefined) {
      const said = readFileSync(log, 'utf8').slice(logStart).trim().split('\n').slice(-5).join('\n')
      throw new SynthexError(`The shared embedded database server did not start (it exited with code ${exited}).${said ? `\n${said}` : ''}`, {
        code: 'SERVER_START_FAILED',
        details: {exitCode: exited, log},
        hint: `The whole log is in ${log}.`,
      })
    }

    await sleep(50)
  }

  child.kill('SIGTERM')
  throw new SynthexError(`The shared embedded database server did not answer within ${Math.round(options.timeoutMs / 1000)}s.`, {
    code: 'SERVER_START_FAILED',
    details: {log},
    hint: `Its log is in ${log}.`,
  })
}
