import {existsSync} from 'node:fs'
import {connect} from 'node:net'
import {join} from 'node:path'

/**
 * The shared embedded database's socket: `$SYNTHEX_HOME/run/.s.PGSQL.5432`, named as
 * Postgres names its own, so that `pg` (and `psql -h $SYNTHEX_HOME/run`) reach it by
 * directory. The directory is private to its owner, and the socket too: only the user who
 * owns the home can connect.
 */
export const SOCKET_PORT = 5432

export function embeddedSocketDir(home: string): string {
  return join(home, 'run')
}

export function embeddedSocketPath(home: string): string {
  return join(embeddedSocketDir(home), `.s.PGSQL.${SOCKET_PORT}`)
}

/** Unix socket paths are limited to 107 bytes on Linux (sun_path). */
export const MAX_SOCKET_PATH = 107

/** Whether a shared server answers on the home's socket (a leftover socket file does not). */
export async function embeddedServerAnswers(home: string, timeoutMs = 1000): Promise<boolean> {
  const path = embeddedSocketPath(home)
  if (!existsSync(path)) return false
  return new Promise<boolean>((resolve) => {
    const socket = connect(path)
    const done = (answer: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }

    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}
