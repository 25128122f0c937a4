import {Args} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {ask} from '../../../cli/prompt.js'
import {SynthexError} from '../../../errors/synthex-error.js'
import {removeChannel} from '../../../services/alerts/channels.js'
import {yesFlag} from '../../../cli/common-flags.js'
import {example} from '../../../cli/example.js'

export default class ChannelsRemove extends BaseCommand<typeof ChannelsRemove> {
  static override args = {
    name: Args.string({description: 'The stored channel to remove.', required: true}),
  }

  static override description = 'Removes a stored channel and its secret. Notifications still pending for it stay in the outbox (and are delivered if a channel of that name is added again). Channels from the environment are removed by unsetting their variables.'
  static override examples = [
    example('old-slack', 'Remove, after confirming.'),
    example('old-slack --yes', 'Remove without asking (scripts).'),
  ]

  static override flags = {
    yes: yesFlag(),
  }

  static override summary = 'Remove a notification channel.'

  async run(): Promise<{removed: string}> {
    const {name} = this.args
    if (!this.flags.yes) {
      if (!this.canPrompt()) {
        throw new SynthexError(`Refusing to remove channel ${name} without confirmation.`, {code: 'CONFIRMATION_REQUIRED', hint: 'Pass --yes to remove it.', kind: 'usage'})
      }

      const answer = await ask(`Remove channel ${name}? Alerts will no longer go to it. [y/N] `)
      if (!/^y(es)?$/i.test(answer)) throw new SynthexError('Not confirmed; nothing was removed.', {code: 'NOT_CONFIRMED'})
    }

    await removeChannel(await this.db(), this.audit, name)
    this.output.success(`Removed channel ${name}.`)
    return {removed: name}
  }
}
