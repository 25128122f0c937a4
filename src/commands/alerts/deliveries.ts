import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {integerFlag} from '../../cli/integer-flags.js'
import {listDeliveries} from '../../services/alerts/delivery/alert-delivery.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'

interface DeliveryView {
  attempts: number
  channel: string
  createdAt: Date
  id: number
  kind: string
  lastError: null | string
  nextAttemptAt: Date
  providerResponse: null | string
  sentAt: Date | null
  severity: string
  state: string
  summary: string
}

export default class AlertsDeliveries extends BaseCommand<typeof AlertsDeliveries> {
  static override description = 'Lists notifications in the outbox: pending (with when the next attempt is due), sent (with the provider\'s answer), failed (with why: a permanent refusal such as a 400, or retries exhausted) and superseded (still unsent when their alert resolved, so never sent: the resolve went instead). Answers and errors are shown as stored: an excerpt of at most 2 KiB, marked where it was cut. Failed notifications, and pending ones a provider keeps refusing, are what `synthex health check` warns about.'
  static override examples = [
    example('--state failed', 'What did not get through, and why.'),
    example('--channel ops-slack --limit 20', 'The last 20 notifications of one channel.'),
  ]

  static override flags = {
    channel: Flags.string({description: 'Only this channel.', helpValue: '<name>'}),
    csv: csvFlag(),
    limit: integerFlag({default: 100, description: 'At most this many, newest first.', max: 10_000, min: 1}),
    state: Flags.option({description: 'Only this state.', options: ['pending', 'sent', 'failed', 'superseded'] as const})(),
  }

  static override summary = 'List notification deliveries.'

  async run(): Promise<{deliveries: DeliveryView[]}> {
    const rows = await listDeliveries(await this.db(), {channel: this.flags.channel, limit: this.flags.limit, state: this.flags.state})
    const deliveries: DeliveryView[] = rows.map((row) => ({
      attempts: row.attempts,
      channel: row.channel,
      createdAt: row.created_at,
      id: Number(row.id),
      kind: row.kind,
      lastError: row.last_error,
      nextAttemptAt: row.next_attempt_at,
      providerResponse: row.provider_response,
      sentAt: row.sent_at,
      severity: row.severity,
      state: row.state,
      summary: String((row.payload as {summary?: string}).summary ?? ''),
    }))
    if (!this.jsonEnabled()) {
      this.output.list(
        deliveries,
        [
          {header: 'ID', key: 'id', value: (item) => item.id},
          {header: 'Channel', key: 'channel', value: (item) => item.channel},
          {header: 'State', key: 'state', value: (item) => item.state},
          {header: 'Kind', key: 'kind', value: (item) => item.kind},
          {header: 'Attempts', key: 'attempts', value: (item) => item.attempts},
          {header: 'When', key: 'when', value: (item) => (item.state === 'pending' ? item.nextAttemptAt : (item.sentAt ?? item.createdAt))},
          {header: 'Answer', key: 'answer', value: (item) => item.lastError ?? item.providerResponse},
          {header: 'Summary', key: 'summary', value: (item) => item.summary},
        ],
        {csv: this.flags.csv, empty: 'No deliveries.'},
      )
    }

    return {deliveries}
  }
}
