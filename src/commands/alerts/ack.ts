import {BaseCommand} from '../../cli/base-command.js'
import {idArg} from '../../cli/integer-flags.js'
import {acknowledgeAlert, type Alert} from '../../services/alerts/alerts.js'
import {example} from '../../cli/example.js'

export default class AlertsAck extends BaseCommand<typeof AlertsAck> {
  static override args = {
    'alert-id': idArg({description: 'The alert\'s id (from `synthex alerts list`).'}),
  }

  static override description = 'Acknowledges a firing alert: someone is on it, so no more reminders are sent. It still resolves (and says so) when the problem goes away, and an escalation to a higher severity is sent and clears the acknowledgement.'
  static override examples = [
    example('42', 'Stop the reminders about alert 42.'),
    {command: 'SYNTHEX_ACTOR=alice <%= config.bin %> <%= command.id %> 42 --json', description: 'Acknowledge in someone\'s name.'},
  ]

  static override summary = 'Acknowledge a firing alert.'

  async run(): Promise<Alert> {
    const alert = await acknowledgeAlert(await this.db(), this.audit, this.args['alert-id'])
    this.output.success(`Acknowledged alert ${alert.id}: ${alert.summary}`)
    return alert
  }
}
