import {commands} from '@oclif/plugin-help'

// @oclif/plugin-help's command, bundled with synthex's own copy of oclif (scripts/build.mjs).
export default class HelpCommand extends commands.help {
  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Topics, commands, where your data lives and what to do first.'},
    {command: '<%= config.bin %> <%= command.id %> batch tenants create', description: 'One command in full: flags, the CSV format, examples.'},
    {command: '<%= config.bin %> <%= command.id %> alerts', description: 'The commands of a topic.'},
  ]
}
