import type {Hook} from '@oclif/core'

import {EXIT_CODES} from '../error-report.js'
import {Output} from '../output.js'
import {closest} from '../suggest.js'

/**
 * An unknown command is a usage error (exit 2, README "Output and exit codes"), reported with the closest
 * real command. Unlike @oclif/plugin-not-found it never prompts (CI has nobody to answer)
 * and honours --json.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const separator = options.config.topicSeparator
  const typed = options.id.replaceAll(':', separator)
  const visible = options.config.commands.filter((command) => !command.hidden)
  const topics = options.config.topics.filter((topic) => !topic.hidden).map((topic) => topic.name)
  const ids = [...visible.map((command) => command.id), ...visible.flatMap((command) => command.aliases), ...topics]
  // Compare the command words only: `tenant tenats list --json` is `tenant:tenats:list`.
  const suggestion = closest(options.id, ids)?.replaceAll(':', separator)
  const json = (options.argv ?? []).includes('--json') || process.argv.includes('--json')
  const message = `"${typed}" is not a ${options.config.bin} command.`
  const hint = suggestion
    ? `Did you mean \`${options.config.bin} ${suggestion}\`? Run \`${options.config.bin} --help\` for all commands.`
    : `Run \`${options.config.bin} --help\` for all commands.`
  const output = new Output({json, stderrColor: false, stdoutColor: false})
  if (json) output.json({error: {code: 'UNKNOWN_COMMAND', exitCode: EXIT_CODES.usage, hint, message}})
  else output.error(message, {hint})
  process.exit(EXIT_CODES.usage)
}

export default hook
