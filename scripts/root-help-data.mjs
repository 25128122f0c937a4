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
const rendered = (text) =>
  typeof text === 'string' && /^(?:<%= config\.bin %>|(?!<%|%>)[\s\S])*$/.test(text) ? text.replaceAll('<%= config.bin %>', escaped) : text

const data = {
  bin: config.bin,
  commands: config.commands.map((command) => ({
    aliases: command.aliases ?? [],
    description: rendered(command.description),
    hidden: command.hidden,
    id: command.id,
    summary: rendered(command.summary),
  })),
  isSingleCommandCLI: config.isSingleCommandCLI,
  pjson: {description, name, oclif, version},
  topicSeparator: config.topicSeparator,
  topics: config.topics.map((topic) => ({description: rendered(topic.description), hidden: topic.hidden, name: topic.name})),
}
writeFileSync(join(root, 'dist', 'root-help.js'), `// Written by scripts/root-help-data.mjs.\nexport default ${JSON.stringify(data)}\n`)
