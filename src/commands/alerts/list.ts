import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {integerFlag} from '../../cli/integer-flags.js'
import {type Alert, listAlerts} from '../../services/alerts/alerts.js'
import {SEVERITIES, type Severity} from '../../domain/severity.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'

export default class AlertsList extends BaseCommand<typeof AlertsList> {
  static override description = 'Lists alerts, firing ones by default (most severe first), with when they started, when a notification of them was last delivered (or whether it is pending, failed or silenced) and whether someone acknowledged them.'
  static override examples = [
    example('', 'What is firing now.'),
    example('--state resolved --limit 20', 'The last 20 resolved alerts.'),
    example('--severity critical --json | jq length', 'How many critical alerts fire.'),
  ]

  static override flags = {
    csv: csvFlag(),
    limit: integerFlag({default: 100, description: 'At most this many alerts.', max: 10_000, min: 1}),
    severity: Flags.string({description: 'Only this severity.', options: [...SEVERITIES]}),
    state: Flags.string({default: 'firing', description: 'Which alerts.', options: ['firing', 'resolved', 'all']}),
  }

  static override summary = 'List alerts.'

  async run(): Promise<{alerts: Alert[]}> {
    const alerts = await listAlerts(await this.db(), {
      limit: this.flags.limit,
      severity: this.flags.severity as Severity | undefined,
      state: this.flags.state as 'all' | 'firing' | 'resolved',
    })
    if (!this.jsonEnabled()) {
      this.output.list(
        alerts,
        [
          {header: 'ID', key: 'id', value: (alert) => alert.id},
          {header: 'Severity', key: 'severity', value: (alert) => alert.severity},
          {header: 'State', key: 'state', value: (alert) => (alert.acknowledgedAt && alert.state === 'firing' ? 'firing (acked)' : alert.state)},
          {header: 'Rule', key: 'rule', value: (alert) => alert.rule},
          {header: 'Workspace', key: 'workspace', value: (alert) => alert.workspace},
          {header: 'Summary', key: 'summary', value: (alert) => alert.summary},
          {header: 'Since', key: 'started_at', value: (alert) => alert.startedAt},
          // Sent means delivered: a notification queued, retried or failed is said as such.
          {header: 'Notified', key: 'notified_at', value: (alert) => (alert.notification === 'sent' ? alert.notifiedAt : alert.notification === 'none' ? null : alert.notification)},
        ],
        {csv: this.flags.csv, empty: this.flags.state === 'firing' ? 'No alert is firing.' : 'No alerts.'},
      )
    }

    return {alerts}
  }
}
