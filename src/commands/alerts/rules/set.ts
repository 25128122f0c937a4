import {Args, Flags} from '@oclif/core'

import {ruleRepeat, ruleSettings} from '../../../cli/rule-view.js'
import {BaseCommand} from '../../../cli/base-command.js'
import {durationFlag} from '../../../cli/credential-flags.js'
import {integerFlag} from '../../../cli/integer-flags.js'
import {type AlertRule, RULE_NAMES, updateRule} from '../../../services/alerts/alert-rules.js'
import {example} from '../../../cli/example.js'

/** Ten years: a threshold further out than that is a typo, and the rules subtract it from today. */
const MAX_DAYS = 3650
/** The repeat interval is stored in seconds in a 32-bit column; a year is far inside it. */
const MAX_REPEAT_MS = 365 * 86_400_000

export default class AlertsRulesSet extends BaseCommand<typeof AlertsRulesSet> {
  static override args = {
    rule: Args.string({description: 'The rule to change.', options: [...RULE_NAMES], required: true}),
  }

  static override description = 'Changes a rule\'s thresholds (in days; runs for health_failing; percent, p95 milliseconds and a minimum of calls for tenant_api_errors and tenant_api_slow), its repeat interval, or turns it on or off. The settings are stored in the database, so they apply to every machine running `synthex alerts check-now` on it.'
  static override examples = [
    example('credential_expiring --info 45 --warning 14 --critical 3', 'Warn earlier about expiring credentials.'),
    example('tenant_inactive --days 60 --repeat 7d', 'Inactive after 60 days; remind weekly.'),
    example('tenant_inactive --disable', 'Turn a rule off.'),
    example('health_failing --runs 2', 'Page when `health check` is unhealthy twice in a row.'),
    example('tenant_api_errors --percent 10 --min-calls 5', 'Alert when over 10% of at least 5 verification calls in the hour failed.'),
    example('tenant_api_slow --p95-ms 5000', 'Alert when verification calls take over 5 seconds at p95.'),
  ]

  static override flags = {
    critical: integerFlag({description: 'credential_expiring: critical at or under this many days left.', max: MAX_DAYS, min: 0}),
    days: integerFlag({description: 'tenant_inactive: days without activity.', max: MAX_DAYS, min: 1}),
    disable: Flags.boolean({description: 'Turn the rule off.', exclusive: ['enable']}),
    enable: Flags.boolean({description: 'Turn the rule on.', exclusive: ['disable']}),
    info: integerFlag({description: 'credential_expiring: info at or under this many days left.', max: MAX_DAYS, min: 0}),
    'min-calls': integerFlag({description: 'tenant_api_errors, tenant_api_slow: the fewest calls in the hour to judge by.', max: 1_000_000, min: 1}),
    'p95-ms': integerFlag({description: 'tenant_api_slow: p95 latency above this many milliseconds.', max: 3_600_000, min: 1}),
    percent: integerFlag({description: 'tenant_api_errors: failed calls above this percentage.', max: 100, min: 0}),
    runs: integerFlag({description: 'health_failing: consecutive unhealthy `health check` runs.', max: 1000, min: 1}),
    repeat: Flags.string({description: 'Send a firing, unacknowledged alert again after this long (e.g. 24h).', helpValue: '<duration>'}),
    warning: integerFlag({description: 'credential_expiring: warning at or under this many days left.', max: MAX_DAYS, min: 0}),
  }

  static override summary = 'Change an alert rule.'

  async run(): Promise<AlertRule> {
    const {critical, days, disable, enable, info, 'min-calls': minCalls, 'p95-ms': p95Ms, percent, repeat, runs, warning} = this.flags
    const rule = await updateRule(await this.db(), this.audit, this.args.rule, {
      enabled: enable ? true : disable ? false : undefined,
      params: {critical, days, info, min_calls: minCalls, p95_ms: p95Ms, percent, runs, warning},
      repeatIntervalMs: repeat === undefined ? undefined : durationFlag('repeat', repeat, {max: MAX_REPEAT_MS, min: 60_000}),
    })
    this.output.success(`Rule ${rule.name}: ${rule.enabled ? 'enabled' : 'disabled'}, ${ruleSettings(rule) || 'no thresholds'}, repeat every ${ruleRepeat(rule)}.`)
    return rule
  }
}
