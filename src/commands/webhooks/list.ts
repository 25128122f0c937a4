import {BaseCommand} from '../../cli/base-command.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'
import {listSubscriptions, type SubscriptionView} from '../../services/webhooks/subscriptions.js'

export default class WebhooksList extends BaseCommand<typeof WebhooksList> {
  static override description = 'Lists the webhook subscriptions: name, the URL\'s host (never the URL, which may be a secret), events, workspace, created, state (disabled after a 410 Gone, with why), deliveries pending and failed, and the last delivery. Secrets are never shown.'
  static override examples = [
    example('', 'Every subscription.'),
    example('--json | jq \'.subscriptions[] | select(.deliveries.failed > 0) | .name\'', 'Subscriptions with failed deliveries.'),
  ]

  static override flags = {csv: csvFlag()}
  static override summary = 'List webhook subscriptions (hosts only, never URLs or secrets).'

  async run(): Promise<{subscriptions: SubscriptionView[]}> {
    const subscriptions = await listSubscriptions(await this.db())
    if (!this.jsonEnabled()) {
      this.output.list(
        subscriptions,
        [
          {header: 'Name', key: 'name', value: (subscription) => subscription.name},
          {header: 'Host', key: 'url_host', value: (subscription) => subscription.urlHost},
          {header: 'Events', key: 'events', value: (subscription) => subscription.events.join(',')},
          {header: 'Workspace', key: 'workspace', value: (subscription) => subscription.workspace ?? '(all)'},
          {header: 'Created', key: 'created_at', value: (subscription) => subscription.createdAt},
          {header: 'State', key: 'state', value: (subscription) => (subscription.disabledAt ? `disabled: ${subscription.disabledReason ?? 'by hand'}` : 'active')},
          {header: 'Pending', key: 'pending', value: (subscription) => subscription.deliveries.pending},
          {header: 'Failed', key: 'failed', value: (subscription) => subscription.deliveries.failed},
          {header: 'Last delivery', key: 'last_delivery', value: (subscription) => lastDelivery(subscription)},
        ],
        {csv: this.flags.csv, empty: 'No webhook subscriptions yet. Add one with `synthex webhooks add <name> --url <https-url> --events ...`.'},
      )
    }

    return {subscriptions}
  }
}

function lastDelivery(subscription: SubscriptionView): string {
  const {last} = subscription.deliveries
  if (!last) return ''
  return [last.at?.toISOString().slice(0, 19).replace('T', ' '), last.state, last.status === null ? undefined : `HTTP ${last.status}`].filter(Boolean).join(' ')
}
