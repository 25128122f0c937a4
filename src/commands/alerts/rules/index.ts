import {ruleRepeat, ruleSettings} from '../../../cli/rule-view.js'
import {BaseCommand} from '../../../cli/base-command.js'
import {type AlertRule, loadRules} from '../../../services/alerts/alert-rules.js'
import {csvFlag} from '../../../cli/common-flags.js'
import {example} from '../../../cli/example.js'

export default class AlertsRules extends BaseCommand<typeof AlertsRules> {
  static override description = 'Shows the built-in alert rules with their thresholds, repeat interval (how often a firing, unacknowledged alert is sent again) and whether they are enabled. Change them with `synthex alerts rules set`.'
  static override examples = [
    example('', 'The rules and their settings.'),
    example('--json', 'As JSON.'),
  ]

  static override flags = {
    csv: csvFlag(),
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
          {header: 'Settings', key: 'params', value: (rule) => ruleSettings(rule)},
          {header: 'Repeat', key: 'repeat', value: (rule) => ruleRepeat(rule)},
          {header: 'Fires when', key: 'description', value: (rule) => rule.description},
        ],
        {csv: this.flags.csv, empty: 'No rules.'},
      )
    }

    return {rules}
  }
}
