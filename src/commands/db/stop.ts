import {hostname} from 'node:os'
import {setTimeout as sleep} from 'node:timers/promises'

import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {isAlive, readLockHolder} from '../../db/embedded-lock.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {notEmbedded} from '../../cli/embedded-only.js'

export interface StopResult {
  readonly pid: number | null
  /** False when no server was running. */
  readonly stopped: boolean
}

/** The server lets connected commands finish for 10 s, then closes the database. */
const STOP_TIMEOUT_MS = 30_000

export default class DbStop extends BaseCommand<typeof DbStop> {
  static override description =
    'Tells the server started by `synthex db start` to stop: it takes no new command, lets those connected finish for up to 10 seconds (then disconnects them; their open transactions are rolled back), closes the embedded database and exits. Commands started afterwards open the embedded database themselves again. Does nothing when no server runs.'

  static override examples = [example('', 'Stop sharing the embedded database.'), example('--json', 'Stop it from a script.')]

  static override summary = 'Stop the shared embedded database server.'

  async run(): Promise<StopResult> {
    const target = this.settings.database
    if (target.kind !== 'embedded') throw notEmbedded('`db stop` stops the shared embedded database server')

    const holder = readLockHolder(target.dataDir)
    if (!holder?.serving) {
      this.output.info(`No shared embedded database server is running for ${target.home}.`)
      return {pid: null, stopped: false}
    }

    if (holder.hostname !== hostname()) {
      throw new SynthexError(`The shared embedded database server runs on ${holder.hostname} (pid ${holder.pid}), not on this host.`, {code: 'SERVER_ELSEWHERE', details: {hostname: holder.hostname, pid: holder.pid}})
    }

    try {
      process.kill(holder.pid, 'SIGTERM')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
    }

    const spinner = this.spin(`Stopping the shared embedded database server (pid ${holder.pid})...`)
    const deadline = Date.now() + STOP_TIMEOUT_MS
    while (readLockHolder(target.dataDir)?.token === holder.token && isAlive(holder.pid)) {
      if (Date.now() > deadline) {
        spinner.stop()
        throw new SynthexError(`The shared embedded database server (pid ${holder.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000}s.`, {
          code: 'SERVER_STOP_TIMEOUT',
          details: {pid: holder.pid},
          hint: `Run \`synthex db stop\` again, or end it with kill ${holder.pid}.`,
        })
      }

      await sleep(50)
    }

    spinner.stop()
    this.output.success(`Stopped the shared embedded database server (pid ${holder.pid}).`)
    return {pid: holder.pid, stopped: true}
  }
}
