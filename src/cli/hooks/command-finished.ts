import type {Hook} from '@oclif/core'

import type {Db} from '../../db/schema.js'
import {dogstatsdTarget} from '../../config/environment.js'
import {type CommandRun, recordCommandRun} from '../../services/telemetry/usage.js'
import {waitAtMost} from '../wait-at-most.js'

/** What BaseCommand hands the `command_finished` hook when a command ends, however it ends. */
export interface CommandFinished extends CommandRun {
  /** The command's database, when it opened one: commands that never did are not recorded there. */
  readonly db: Db | undefined
}

const RECORD_TIMEOUT_MS = 2000

/**
 * Usage analytics and DogStatsD, after every command. Neither may break or slow the command
 * noticeably: failures are swallowed, and each has a short time limit.
 */
const hook: Hook<'command_finished'> = async function (options) {
  const run = options as unknown as CommandFinished
  const target = dogstatsdTarget()
  const outcome = run.exitCode === 0 ? 'success' : run.errorClass === 'interrupted' ? 'interrupted' : 'error'
  await Promise.all([
    // The DogStatsD client (and Node's dgram) is loaded only when there is an agent to send to.
    target
      ? import('../../exporters/dogstatsd-client.js').then(({commandDatagrams, sendDatagrams}) =>
          sendDatagrams(target, commandDatagrams({command: run.command, durationMs: run.durationMs, exitCode: run.exitCode, outcome})),
        )
      : undefined,
    run.db ? waitAtMost(recordCommandRun(run.db, run), RECORD_TIMEOUT_MS).catch(() => {}) : undefined,
  ])
}

export default hook
