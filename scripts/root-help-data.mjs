// Writes dist/root-help.js: what oclif's Config holds that the root help reads (see
// src/cli/quick-root-help.ts), taken from oclif's own Config once the manifest is written,
// so that `synthex` and `synthex --help` need not start oclif to print it.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {Config} from '@oclif/core'

const root = fileURLToPath(new URL('..', import.meta.url))
// As an installed synthex starts, less what a user may add (their plugins), which
// src/cli/quick-root-help.ts checks for at run time.
const config = await Config.load({devPlugins: false, root, userPlugins: false})
const {description, name, oclif, version} = config.pjson
if (config.theme || oclif.theme || oclif.helpOptions || oclif.helpClass !== './dist/cli/help.js') {
  throw new Error('root-help-data: the root help depends on settings that src/cli/quick-root-help.ts does not reproduce; update both')
}

// Help texts are ejs templates, rendered with the help class as context. The one template
// synthex's texts hold, `<%= config.bin %>`, is rendered here already (as ejs would:
// HTML-escaped), so that the root help need not load and run ejs; any other stays a template.
const escaped = config.bin.replaceAll(/[&<>"']/g, (c) => ({'"': '&#34;', '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;'})[c])
const plain = (text) => typeof text === 'string' && /^(?:<%= config\.bin %>|(?!<%|%>)[\s\S])*$/.test(text)
const rendered = (text) => (plain(text) ? text.replaceAll('<%= config.bin %>', escaped) : text)

// Only what the root help shows: commands of one word (src/cli/quick-root-help.ts shows
// no other, as oclif's root help without --all), each with its summary, or else the first
// line of its description; and every topic's name (a topic is shown if others are under it),
// with the first line of the description of those of one word.
const firstLine = (text) => (plain(text) ? rendered(text).split('\n')[0] : text)
const data = {
  bin: config.bin,
  commands: config.commands
    .filter((command) => !command.id.includes(':'))
    .map((command) => ({
      aliases: command.aliases ?? [],
      description: command.summary ? undefined : firstLine(command.description),
      hidden: command.hidden,
      id: command.id,
      summary: firstLine(command.summary),
    })),
  isSingleCommandCLI: config.isSingleCommandCLI,
  pjson: {description, name, oclif: {description: oclif.description, state: oclif.state}, version},
  topicSeparator: config.topicSeparator,
  topics: config.topics.map((topic) => ({
    description: topic.name.includes(':') ? undefined : firstLine(topic.description),
    hidden: topic.hidden,
    name: topic.name,
  })),
}
writeFileSync(join(root, 'dist', 'root-help.js'), `// Written by scripts/root-help-data.mjs.\nexport default ${JSON.stringify(data)}\n`)
