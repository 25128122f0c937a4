import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {startBackgroundServer} from '../../cli/background-server.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {example} from '../../cli/example.js'
import {readLockHolder} from '../../db/embedded-lock.js'
import {embeddedServerAnswers, embeddedSocketPath} from '../../db/embedded-socket.js'
import {holdEmbeddedForServing} from '../../db/open-database.js'
import {formatDuration} from '../../domain/durations.js'
import {notEmbedded} from '../../cli/embedded-only.js'

export interface StartResult {
  /** False when a server was already running (nothing was started). */
  readonly started: boolean
  readonly idleTimeoutMs: number | null
  readonly log: string | null
  readonly pid: number | null
  readonly socket: string
  /** In the foreground: why the server stopped. */
  readonly stopped?: 'idle' | 'stopped'
}

/** How long connected commands may take to finish when the server is told to stop. */
const STOP_GRACE_MS = 10_000
/** A client holding a transaction open this long without a word is disconnected (rolled back). */
const IDLE_IN_TRANSACTION_MS = 60_000
/** Creating and migrating a new embedded database takes seconds; this is ample. */
const START_TIMEOUT_MS = 120_000

export default class DbStart extends BaseCommand<typeof DbStart> {
  static override description = `Without a server, the embedded database belongs to one command at a time: a second command waits for the first (up to SYNTHEX_LOCK_TIMEOUT) and then gives up. \`db start\` opens it once and serves it on a socket in $SYNTHEX_HOME/run that only its owner can open; every synthex command on the same SYNTHEX_HOME then connects to it, so a cron \`alerts check-now\`, an operator's commands and an import run at the same time, each at the speed of a server database.

Commands take turns transaction by transaction (the embedded database is one Postgres session): one command's transaction never interleaves with another's, and a command killed mid-transaction has it rolled back at once. The server stops after --idle-timeout without a client, on \`synthex db stop\`, or (with --foreground) on Ctrl-C or SIGTERM, letting connected commands finish for up to 10 seconds. \`synthex db status\` says whether one is running. Only for the embedded database: a Postgres server (DATABASE_URL) is shared already.`

  static override examples = [
    example('', 'Share the embedded database among the commands that follow.'),
    example('--idle-timeout 0', 'Keep serving until `synthex db stop`.'),
    example('--foreground', 'Run under systemd, Docker or a supervisor (stops on SIGTERM).'),
    {command: '<%= config.bin %> db status', description: 'Check that commands share it (psql -h $SYNTHEX_HOME/run -U postgres postgres looks inside while it runs).'},
  ]

  static override flags = {
    foreground: Flags.boolean({description: 'Serve from this process until SIGTERM or Ctrl-C, instead of in the background.'}),
    'idle-timeout': Flags.string({default: '30m', description: 'Stop after this long without a connected command (0s: never).', helpValue: '<duration>'}),
  }

  static override summary = 'Share the embedded database among concurrent commands (a local server).'

  async run(): Promise<StartResult> {
    const target = this.settings.database
    if (target.kind !== 'embedded') throw notEmbedded('`db start` serves the embedded database')

    const idleTimeoutMs = durationFlag('idle-timeout', this.flags['idle-timeout'], {max: 365 * 86_400_000})
    const socket = embeddedSocketPath(target.home)
    const already = (): StartResult => {
      const holder = readLockHolder(target.dataDir)
      this.output.success(`The shared embedded database server is already running${holder ? ` (pid ${holder.pid}, since ${holder.startedAt})` : ''}.`)
      return {idleTimeoutMs: null, log: null, pid: holder?.pid ?? null, socket, started: false}
    }

    if (!this.flags.foreground) {
      if (await embeddedServerAnswers(target.home)) return already()
      const spinner = this.spin('Starting the shared embedded database server...')
      const {log, pid} = await startBackgroundServer({args: ['--idle-timeout', this.flags['idle-timeout']], home: target.home, timeoutMs: START_TIMEOUT_MS})
      spinner.stop()
      this.output.success(`Serving the embedded database at ${target.dataDir} (pid ${pid}); synthex commands on this SYNTHEX_HOME now share it.`)
      this.output.info(idleTimeoutMs > 0 ? `It stops after ${formatDuration(idleTimeoutMs)} without a command, or on \`synthex db stop\`. Log: ${log}` : `It runs until \`synthex db stop\`. Log: ${log}`)
      return {idleTimeoutMs, log, pid, socket, started: true}
    }

    // Interrupted while it waits for a command holding the database, it stops as any command does.
    const held = await holdEmbeddedForServing(target, {command: 'db start', onProgress: (progress) => this.showProgress(progress)})
    this.stopSpinner()
    if (!held) return already()
    let stopped: 'idle' | 'stopped'
    try {
      const {startEmbeddedServer} = await import('../../db/embedded-server.js')
      const server = await startEmbeddedServer(held.client, target.home, {idleInTransactionMs: IDLE_IN_TRANSACTION_MS, idleTimeoutMs})
      this.stopWith(() => void server.stop(STOP_GRACE_MS))
      this.output.success(`Serving the embedded database at ${target.dataDir} on ${socket} (pid ${process.pid}).`)
      stopped = await server.stopped
    } finally {
      await held.close()
    }

    this.output.info(stopped === 'idle' ? `Stopped after ${formatDuration(idleTimeoutMs)} without a command.` : 'Stopped.')
    return {idleTimeoutMs, log: null, pid: process.pid, socket, started: true, stopped}
  }
}
