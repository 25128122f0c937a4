import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {idArg} from '../../cli/integer-flags.js'
import {redeliverWebhook, type WebhookDeliveryView} from '../../services/webhooks/webhook-deliveries.js'

export default class WebhooksRedeliver extends BaseCommand<typeof WebhooksRedeliver> {
  static override args = {
    'delivery-id': idArg({description: 'The delivery\'s id (from `synthex webhooks deliveries`).'}),
  }

  static override description = 'Puts a sent or failed webhook delivery back in the outbox, due now, with its attempts counted afresh: the next `synthex webhooks deliver` (or `alerts check-now`) sends it, with the same body and the same webhook-id, so a receiver that deduplicates by webhook-id can tell it is the same event. Recorded in the audit trail. Its retries still end three days after the event.'
  static override examples = [
    example('42', 'Send delivery 42 again.'),
    {command: '<%= config.bin %> <%= command.id %> 42 && <%= config.bin %> webhooks deliver', description: 'Send it again now.'},
  ]

  static override summary = 'Send a webhook delivery again.'

  async run(): Promise<WebhookDeliveryView> {
    const delivery = await redeliverWebhook(await this.db(), this.audit, this.args['delivery-id'])
    this.output.success(`Delivery ${delivery.id} (${delivery.eventType} to ${delivery.subscription}) is pending again, webhook-id ${delivery.messageId}${delivery.subscriptionDisabled ? `; ${delivery.subscription} is disabled: it waits until the subscription is enabled` : ''}.`)
    return delivery
  }
}
