import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'
import {integerFlag} from '../../cli/integer-flags.js'
import {listWebhookDeliveries, type WebhookDeliveryView} from '../../services/webhooks/webhook-deliveries.js'

export default class WebhooksDeliveries extends BaseCommand<typeof WebhooksDeliveries> {
  static override description = 'Lists webhook deliveries, newest first: pending (with the next attempt, and the last answer when one failed), sent, and failed (with why: an answer such as a 400, a redirect not followed, an address refused, or three days of retries). The last error is an excerpt of at most 2 KiB, with the URL and anything shaped like a secret taken out. `synthex webhooks redeliver <id>` sends a sent or failed one again.'
  static override examples = [
    example('--state failed', 'What did not get through, and why.'),
    example('--subscription crm --limit 20', 'The last 20 deliveries to one subscription.'),
    example('--state pending --csv > pending.csv', 'The pending ones as CSV.'),
  ]

  static override flags = {
    csv: csvFlag(),
    limit: integerFlag({default: 100, description: 'At most this many, newest first.', max: 10_000, min: 1}),
    state: Flags.option({description: 'Only this state.', options: ['pending', 'sent', 'failed'] as const})(),
    subscription: Flags.string({description: 'Only this subscription\'s.', helpValue: '<name>'}),
  }

  static override summary = 'List webhook deliveries.'

  async run(): Promise<{deliveries: WebhookDeliveryView[]}> {
    const deliveries = await listWebhookDeliveries(await this.db(), {limit: this.flags.limit, state: this.flags.state, subscription: this.flags.subscription})
    if (!this.jsonEnabled()) {
      this.output.list(
        deliveries,
        [
          {header: 'ID', key: 'id', value: (item) => item.id},
          {header: 'Subscription', key: 'subscription', value: (item) => (item.subscriptionDisabled ? `${item.subscription} (disabled)` : item.subscription)},
          {header: 'Event', key: 'event_type', value: (item) => item.eventType},
          {header: 'State', key: 'state', value: (item) => item.state},
          {header: 'Attempts', key: 'attempts', value: (item) => item.attempts},
          {header: 'Status', key: 'last_status', value: (item) => item.lastStatus},
          {header: 'Next attempt', key: 'next_attempt_at', value: (item) => item.nextAttemptAt},
          {header: 'Created', key: 'created_at', value: (item) => item.createdAt},
          {header: 'Sent', key: 'sent_at', value: (item) => item.sentAt},
          {header: 'Last error', key: 'last_error', value: (item) => item.lastError},
        ],
        {csv: this.flags.csv, empty: 'No webhook deliveries.'},
      )
    }

    return {deliveries}
  }
}
