import {BaseCommand} from '../../../cli/base-command.js'
import {idArg} from '../../../cli/integer-flags.js'
import {expireSilence, type Silence} from '../../../services/alerts/silences.js'
import {example} from '../../../cli/example.js'

export default class AlertsSilencesExpire extends BaseCommand<typeof AlertsSilencesExpire> {
  static override args = {
    'silence-id': idArg({description: 'The silence\'s id (from `synthex alerts silences`).'}),
  }

  static override description = 'Ends a silence now. Alerts it muted that still fire are sent by the next `synthex alerts check-now`.'
  static override examples = [
    example('7', 'End silence 7.'),
    example('7 && <%= config.bin %> alerts check-now', 'End it and send what it held back.'),
  ]

  static override summary = 'End a silence now.'

  async run(): Promise<Silence> {
    const silence = await expireSilence(await this.db(), this.audit, this.args['silence-id'])
    this.output.success(`Silence ${silence.id} ended.`)
    return silence
  }
}
