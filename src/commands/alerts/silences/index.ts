import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {listSilences, type Silence} from '../../../services/alerts/silences.js'
import {csvFlag} from '../../../cli/common-flags.js'
import {example} from '../../../cli/example.js'

export default class AlertsSilences extends BaseCommand<typeof AlertsSilences> {
  static override description = 'Lists the silences that are in force or yet to end (with --all, ended ones too). End one early with `synthex alerts silences expire <id>`.'
  static override examples = [
    example('', 'Silences in force.'),
    example('--all --json', 'Every silence, as JSON.'),
  ]

  static override flags = {
    all: Flags.boolean({description: 'Include ended silences.'}),
    csv: csvFlag(),
  }

  static override summary = 'List silences.'

  async run(): Promise<{silences: Silence[]}> {
    const silences = await listSilences(await this.db(), {all: this.flags.all})
    if (!this.jsonEnabled()) {
      this.output.list(
        silences,
        [
          {header: 'ID', key: 'id', value: (silence) => silence.id},
          {header: 'Matchers', key: 'matchers', value: (silence) => Object.entries(silence.matchers).map(([key, value]) => `${key}=${value}`).join(' ')},
          {header: 'Until', key: 'ends_at', value: (silence) => silence.endsAt},
          {header: 'Active', key: 'active', value: (silence) => (silence.active ? 'yes' : 'no')},
          {header: 'By', key: 'created_by', value: (silence) => silence.createdBy},
          {header: 'Comment', key: 'comment', value: (silence) => silence.comment},
        ],
        {csv: this.flags.csv, empty: 'No silences.'},
      )
    }

    return {silences}
  }
}
