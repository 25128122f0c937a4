import {commands} from '@oclif/plugin-help'
import {example} from '../cli/example.js'

// @oclif/plugin-help's command, bundled with synthex's own copy of oclif (scripts/build.mjs).
export default class HelpCommand extends commands.help {
  static override examples = [
    example('', 'Topics, commands, where your data lives and what to do first.'),
    example('batch tenants create', 'One command in full: flags, the CSV format, examples.'),
    example('alerts', 'The commands of a topic.'),
  ]
}
