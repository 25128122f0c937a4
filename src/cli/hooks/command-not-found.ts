import type {Hook} from '@oclif/core'

import {EXIT_CODES} from '../error-report.js'
import {Output} from '../output.js'
import {closest} from '../suggest.js'

/** What a command word looks like; anything else typed may be a value (a token), so it is not repeated. */
const COMMAND_WORD = /^[a-z][\da-z-]{0,24}$/

/**
 * An unknown command is a usage error (exit 2, README "Output and exit codes"), reported with the closest
 * real command. Unlike @oclif/plugin-not-found it never prompts (CI has nobody to answer)
 * and honours --json. The short forms (`tenants list` for `tenant tenants list`) come first
 * among the candidates, so that a tie goes to them. Words that follow a real command, or do
 * not look like command words, are not repeated: they may be a secret typed as an argument.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const {bin} = options.config
  const separator = options.config.topicSeparator
  const words = options.id.split(':')
  const visible = options.config.commands.filter((command) => !command.hidden)
  const commands = new Map<string, {args: number}>()
  for (const command of visible) {
    for (const id of [command.id, ...command.aliases]) commands.set(id, {args: Object.keys(command.args ?? {}).length})
  }

  const topics = options.config.topics.filter((topic) => !topic.hidden).map((topic) => topic.name)
  const aliases = visible.flatMap((command) => command.aliases)
  const ids = [...aliases, ...visible.map((command) => command.id), ...topics]
  // The longest part of what was typed that names a command or a topic.
  let known = words.length
  while (known > 0 && !commands.has(words.slice(0, known).join(':')) && !topics.includes(words.slice(0, known).join(':'))) known--
  // Compare the command words only (`tenant tenats list --json` is `tenant:tenats:list`),
  // then fewer of them: in `tenant get acme`, `acme` is the argument of `tenants get`.
  let suggestion: string | undefined
  for (let length = words.length; length > known && !suggestion; length--) suggestion = closest(words.slice(0, length).join(':'), ids)?.replaceAll(':', separator)
  const knownId = words.slice(0, known).join(':')
  const shown = (id: string): string => `${bin} ${id.replaceAll(':', separator)}`
  const json = (options.argv ?? []).includes('--json') || process.argv.includes('--json')

  let code = 'UNKNOWN_COMMAND'
  let message: string
  let hint = suggestion ? `Did you mean \`${bin} ${suggestion}\`? Run \`${bin} --help\` for all commands.` : `Run \`${bin} --help\` for all commands.`
  if (!suggestion && commands.has(knownId) && commands.get(knownId)?.args === 0) {
    // `synthex metrics extra`: oclif looks for a command `metrics extra`.
    code = 'USAGE'
    message = `\`${shown(knownId)}\` takes no arguments (what followed it is not repeated here, in case it is a secret).`
    hint = `Run \`${shown(knownId)} --help\` for its flags and examples.`
  } else if (words.slice(known).every((word) => COMMAND_WORD.test(word))) {
    message = `"${options.id.replaceAll(':', separator)}" is not a ${bin} command.`
  } else {
    message = known > 0 ? `There is no such command under \`${shown(knownId)}\` (what was typed is not repeated here, in case it is a secret).` : `That is not a ${bin} command (what was typed is not repeated here, in case it is a secret).`
    if (known > 0) hint = `Run \`${shown(knownId)} --help\` for its commands.`
  }

  const output = new Output({json, stderrColor: false, stdoutColor: false})
  if (json) output.json({error: {code, exitCode: EXIT_CODES.usage, hint, message}})
  else output.error(message, {hint})
  process.exit(EXIT_CODES.usage)
}

export default hook
