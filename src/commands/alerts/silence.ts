import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {RULE_NAMES} from '../../services/alerts/alert-rules.js'
import {createSilence, type Silence} from '../../services/alerts/silences.js'
import {SEVERITIES} from '../../domain/severity.js'
import {example} from '../../cli/example.js'

export default class AlertsSilence extends BaseCommand<typeof AlertsSilence> {
  static override description = `Mutes the alerts matching all the matchers given (a tenant, a rule, a severity; --workspace if given explicitly) for a while. Muted alerts are still recorded and listed, but nothing is sent; if one still fires when the silence ends, it is sent then. A resolve is always sent for an alert that was notified, so PagerDuty incidents close.`
  static override examples = [
    example('--tenant acme-us --for 24h --comment "migrating the shop"', 'Mute one tenant for a day.'),
    example('--rule tenant_inactive --for 7d --comment "holiday season"', 'Mute a rule for a week.'),
  ]

  static override flags = {
    comment: Flags.string({description: 'Why (shown to whoever wonders later).', required: true}),
    for: Flags.string({description: 'How long, e.g. 2h, 24h, 7d.', helpValue: '<duration>', required: true}),
    // <rule> in the usage line, which the rules' names in full make too long to read; they are in the description.
    rule: Flags.string({description: `Only this rule: ${RULE_NAMES.join(', ')}.`, helpValue: '<rule>', options: [...RULE_NAMES]}),
    severity: Flags.string({description: 'Only this severity.', options: [...SEVERITIES]}),
    tenant: Flags.string({description: 'Only this tenant.', helpValue: '<tenant-id>'}),
  }

  static override summary = 'Mute matching alerts for a while.'

  async run(): Promise<Silence> {
    const {comment, for: duration, rule, severity, tenant, workspace} = this.flags
    const durationMs = durationFlag('for', duration)
    const silence = await createSilence(await this.db(), this.audit, {
      comment,
      durationMs,
      matchers: {rule, severity, tenant, workspace},
    })
    this.output.success(`Silence ${silence.id} until ${silence.endsAt.toISOString()}: ${JSON.stringify(silence.matchers)}`)
    return silence
  }
}
