import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {yesFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'
import {ask} from '../../cli/prompt.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {removeSubscription} from '../../services/webhooks/subscriptions.js'

export default class WebhooksRemove extends BaseCommand<typeof WebhooksRemove> {
  static override args = {
    name: Args.string({description: 'The subscription to remove.', required: true}),
  }

  static override description = `Removes a webhook subscription, its URL and its secrets. Its deliveries go with it: those still pending are never sent. The removal is in the audit trail (webhook.removed).

On a terminal you are asked to confirm; in scripts and CI, where nobody can answer, --yes is required.`

  static override examples = [example('old-crm', 'Remove, after confirming.'), example('old-crm --yes', 'Remove without asking (scripts, CI).')]
  static override flags = {yes: yesFlag()}
  static override summary = 'Remove a webhook subscription and its pending deliveries.'

  async run(): Promise<{name: string; pendingDropped: number}> {
    const {name} = this.args
    if (!this.flags.yes) {
      if (!this.canPrompt()) {
        throw new SynthexError(`Refusing to remove webhook ${name} without confirmation.`, {code: 'CONFIRMATION_REQUIRED', hint: 'Nobody is at a terminal to confirm; pass --yes to remove it.', kind: 'usage'})
      }

      const answer = await ask(`Remove webhook ${name}? Its pending deliveries will not be sent. [y/N] `)
      if (!/^y(es)?$/i.test(answer)) throw new SynthexError('Not confirmed; nothing was removed.', {code: 'NOT_CONFIRMED'})
    }

    const removed = await removeSubscription(await this.db(), this.audit, name)
    this.output.success(`Removed webhook ${removed.name}${removed.pendingDropped > 0 ? ` and ${removed.pendingDropped.toLocaleString('en-US')} pending deliveries` : ''}.`)
    return removed
  }
}
