import {BaseCommand} from '../../../cli/base-command.js'
import {idArg} from '../../../cli/integer-flags.js'
import {expireSilence, type Silence} from '../../../services/alerts/silences.js'

export default class AlertsSilencesExpire extends BaseCommand<typeof AlertsSilencesExpire> {
  static override args = {
    'silence-id': idArg({description: 'The silence\'s id (from `synthex alerts silences`).'}),
  }

  static override description = 'Ends a silence now. Alerts it muted that still fire are sent by the next `synthex alerts check-now`.'
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> 7', description: 'End silence 7.'},
    {command: '<%= config.bin %> <%= command.id %> 7 && <%= config.bin %> alerts check-now', description: 'End it and send what it held back.'},
  ]

  static override summary = 'End a silence now.'

  async run(): Promise<Silence> {
    const silence = await expireSilence(await this.db(), this.audit, this.args['silence-id'])
    this.output.success(`Silence ${silence.id} ended.`)
    return silence
  }
}
