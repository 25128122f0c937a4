import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {enableSubscription, type Subscription} from '../../services/webhooks/subscriptions.js'

export default class WebhooksEnable extends BaseCommand<typeof WebhooksEnable> {
  static override args = {
    name: Args.string({description: 'The disabled subscription.', required: true}),
  }

  static override description = 'Turns a webhook subscription back on after it was disabled (its receiver answered 410 Gone): events are queued for it again, and its pending deliveries are sent at the next delivery run. Events that happened while it was disabled were not queued for it. An enabled subscription is left as it is.'
  static override examples = [example('crm', 'The receiver is back: resume.'), example('crm --json', 'As JSON: wasDisabled, and how many pending deliveries resume.')]
  static override summary = 'Re-enable a webhook subscription disabled by a 410 Gone.'

  async run(): Promise<{resumed: number; subscription: Subscription; wasDisabled: boolean}> {
    const enabled = await enableSubscription(await this.db(), this.audit, this.args.name)
    if (enabled.wasDisabled) this.output.success(`Enabled webhook ${enabled.subscription.name}; ${enabled.resumed.toLocaleString('en-US')} pending deliveries resume.`)
    else this.output.info(`Webhook ${enabled.subscription.name} is enabled already.`)
    return enabled
  }
}
