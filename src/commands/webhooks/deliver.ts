import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {example} from '../../cli/example.js'
import {integerFlag} from '../../cli/integer-flags.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {DEFAULT_WEBHOOK_CONCURRENCY, deliverWebhooks, LEASE_MS, type WebhookDeliveryResult} from '../../services/webhooks/webhook-delivery.js'

export default class WebhooksDeliver extends BaseCommand<typeof WebhooksDeliver> {
  // Each subscription's feed claims and the outcomes are recorded at once.
  static override databasePoolSize = 8
  static override description = `Sends the webhook deliveries that are due, each subscription with workers of its own (--concurrency), and prints a one-line summary. \`synthex alerts check-now\` (and so \`serve --check-every\`) does this too, after the alert notifications: run this for webhooks on a schedule of their own, or to flush the outbox now.

A delivery is sent once: runs at once each take different deliveries, and what a receiver accepted (2xx) is never sent again. One that did not get through (408, 429, 5xx, a timeout, a network error) is retried with backoff and jitter, never before the receiver's Retry-After, for up to three days; then it is failed. Other answers (a 4xx, a redirect, an address refused) fail it at once. A 410 Gone disables its subscription: its deliveries wait until it is enabled again. \`synthex webhooks deliveries\` shows them all.

Exit 3 when a delivery failed for good in this run.`

  static override examples = [
    example('', 'Send what is due now.'),
    {command: '*/5 * * * * <%= config.bin %> <%= command.id %> --max-wait 2m >> /var/log/synthex-webhooks.log 2>&1', description: 'A crontab line.'},
    example('--concurrency 16 --json', 'More requests in flight to each subscriber, with the figures as JSON.'),
  ]

  static override flags = {
    concurrency: integerFlag({default: DEFAULT_WEBHOOK_CONCURRENCY, description: 'Requests in flight at once to each subscriber.', max: 64, min: 1}),
    'max-wait': Flags.string({default: '30s', description: 'How long this run may go on, waiting out retries included, before leaving the rest to the next run.', helpValue: '<duration>'}),
  }

  static override summary = 'Send the webhook deliveries that are due.'

  async run(): Promise<WebhookDeliveryResult> {
    const maxWaitMs = durationFlag('max-wait', this.flags['max-wait'], {max: 24 * 3_600_000, min: 1000})
    const controller = new AbortController()
    process.once('SIGINT', () => controller.abort())
    process.once('SIGTERM', () => controller.abort())
    const result = await deliverWebhooks(await this.db(), this.keyring({sealing: false}), {concurrency: this.flags.concurrency, maxWaitMs, signal: controller.signal})
    for (const {reason, subscription} of result.unopened) this.output.warn(`Webhook subscription ${subscription} could not be opened, its deliveries wait: ${reason}`)
    if (result.unrecorded > 0) throw unrecordedError(result)
    if (!this.jsonEnabled()) process.stdout.write(`${webhookSummaryLine(result)}\n`)
    for (const name of result.disabled) this.output.warn(`Webhook subscription ${name} answered 410 Gone and was disabled: its deliveries wait until it is enabled again.`)
    if (result.failed > 0) {
      this.output.info(`${result.failed} deliver${result.failed === 1 ? 'y' : 'ies'} failed for good: exit 3. See \`synthex webhooks deliveries --state failed\`.`)
      process.exitCode = 3
    }

    return result
  }
}

/** 12,345 */
const n = (value: number): string => String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/** The log line: `sent 12 · retried 1 · failed 0 · disabled 0 · pending 3` */
export function webhookSummaryLine(result: Pick<WebhookDeliveryResult, 'disabled' | 'failed' | 'pending' | 'retried' | 'sent'>): string {
  return `sent ${n(result.sent)} · retried ${n(result.retried)} · failed ${n(result.failed)} · disabled ${n(result.disabled.length)} · pending ${n(result.pending)}`
}

function unrecordedError(result: WebhookDeliveryResult): SynthexError {
  return new SynthexError(
    `${result.unrecorded} webhook delivery outcome${result.unrecorded === 1 ? '' : 's'} could not be recorded: they are due again once their claim ends, within ${LEASE_MS / 60_000} minutes, and one that had been sent may be sent again (under the same webhook-id).`,
    {code: 'DELIVERY_NOT_RECORDED', details: {failed: result.failed, retried: result.retried, sent: result.sent, unrecorded: result.unrecorded}, hint: 'Run synthex health check: the database may be failing.'},
  )
}
