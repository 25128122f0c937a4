import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {formatDuration} from '../../../domain/durations.js'
import {type AlertRule, loadRules} from '../../../services/alerts/alert-rules.js'

export default class AlertsRules extends BaseCommand<typeof AlertsRules> {
  static override description = 'Shows the built-in alert rules with their thresholds, repeat interval (how often a firing, unacknowledged alert is sent again) and whether they are enabled. Change them with `synthex alerts rules set`.'
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'The rules and their settings.'},
    {command: '<%= config.bin %> <%= command.id %> --json', description: 'As JSON.'},
  ]

  static override flags = {
    csv: Flags.boolean({description: 'Print CSV instead of a table.', exclusive: ['json']}),
  }

  static override summary = 'Show the alert rules.'

  async run(): Promise<{rules: AlertRule[]}> {
    const rules = await loadRules(await this.db())
    if (!this.jsonEnabled()) {
      this.output.list(
        rules,
        [
          {header: 'Rule', key: 'name', value: (rule) => rule.name},
          {header: 'Enabled', key: 'enabled', value: (rule) => (rule.enabled ? 'yes' : 'no')},
          {header: 'Settings', key: 'params', value: (rule) => Object.entries(rule.params).map(([key, value]) => `${key}=${value}d`).join(' ')},
          {header: 'Repeat', key: 'repeat', value: (rule) => formatDuration(rule.repeatIntervalMs)},
          {header: 'Fires when', key: 'description', value: (rule) => rule.description},
        ],
        {csv: this.flags.csv, empty: 'No rules.'},
      )
    }

    return {rules}
  }
}
