import {existsSync} from 'node:fs'

import type {Interfaces} from '@oclif/core'
import {HelpFormatter} from '@oclif/core/lib/help/formatter.js'
import rootHelp from '@oclif/core/lib/help/root.js'
import {colorize} from '@oclif/core/lib/ux/theme.js'
import {sortBy, uniqBy} from '@oclif/core/lib/util/util.js'
import ansis from 'ansis'

import {oclifUserFiles} from '../config/oclif-environment.js'
import {rootHelpEpilogue} from './root-help-sections.js'
import {userAgent} from './user-agent.js'

interface RootCommand {
  aliases: string[]
  description?: string
  hidden?: boolean
  id: string
  summary?: string
}

interface RootTopic {
  description?: string
  hidden?: boolean
  name: string
}

/**
 * What oclif's Config holds that the root help reads, written by scripts/root-help-data.mjs
 * into dist/root-help.js from oclif's own Config (with the manifest) at build time.
 */
export interface RootHelpData {
  readonly bin: string
  readonly commands: readonly RootCommand[]
  readonly isSingleCommandCLI: boolean
  readonly pjson: {description?: string; name: string; oclif: Record<string, unknown>; version?: string}
  readonly topicSeparator: string
  readonly topics: readonly RootTopic[]
}

/**
 * `synthex` and `synthex --help` without starting oclif (reading package.json and the
 * manifest, plugins, hooks) and without oclif's help class, which loads most of oclif: the
 * root help is laid out here with oclif's own formatter, from what oclif's Config held at
 * build time, then synthex's sections as src/cli/help.ts adds them. Returns false, having
 * printed nothing, when oclif could print something else: a colour theme or plugins of the
 * user's own, Windows, a single-command CLI, or no dist/root-help.js.
 * test/e2e/startup.test.ts compares the output with oclif's.
 */
export async function showRootHelpQuickly(data: URL): Promise<boolean> {
  if (process.platform === 'win32') return false
  const files = oclifUserFiles()
  if (existsSync(files.theme) || existsSync(files.plugins)) return false
  let help: RootHelpData
  try {
    help = ((await import(data.href)) as {default: RootHelpData}).default
  } catch {
    return false
  }

  if (help.isSingleCommandCLI) return false
  const config = {
    bin: help.bin,
    commands: help.commands.map((command) => ({...command, aliases: [...command.aliases]})),
    isSingleCommandCLI: false,
    pjson: help.pjson,
    theme: undefined,
    topicSeparator: help.topicSeparator,
    topics: help.topics.map((topic) => ({...topic})),
    userAgent: userAgent(help.pjson),
  }
  new QuickRootHelp(config as unknown as Interfaces.Config).show()
  return true
}

/**
 * The steps of oclif's `Help.showRootHelp` (node_modules/@oclif/core/lib/help/index.js),
 * with the same formatter, for a Config without a theme.
 */
class QuickRootHelp extends HelpFormatter {
  constructor(config: Interfaces.Config) {
    super(config)
    // As oclif's HelpBase.
    if (!config.topicSeparator) config.topicSeparator = ':'
  }

  show(): void {
    let rootTopics = this.sortedTopics()
    let rootCommands = this.sortedCommands()
    const state = this.config.pjson?.oclif?.state
    if (state) this.log(state === 'deprecated' ? `${this.config.bin} is deprecated` : `${this.config.bin} is in ${state}.\n`)
    this.log(new rootHelp.default(this.config, this.opts).root())
    this.log('')
    if (!this.opts.all) {
      rootTopics = rootTopics.filter((topic) => !topic.name.includes(':'))
      rootCommands = rootCommands.filter((command) => !command.id.includes(':'))
    }

    if (rootTopics.length > 0) {
      this.log(this.formatTopics(rootTopics))
      this.log('')
    }

    if (rootCommands.length > 0) {
      this.log(this.formatCommands(rootCommands.filter((command) => command.id)))
      this.log('')
    }

    for (const line of rootHelpEpilogue(this, this.config.bin)) this.log(line)
  }

  private formatCommands(commands: RootCommand[]): string {
    if (commands.length === 0) return ''
    const body = this.renderList(
      commands
        .filter((command) => (this.opts.hideAliasesFromRoot ? !command.aliases?.includes(command.id) : true))
        .map((command) => {
          if (this.config.topicSeparator !== ':') command.id = command.id.replaceAll(':', this.config.topicSeparator)
          const summary = this.summary(command)
          return [colorize(this.config?.theme?.command, command.id), summary && colorize(this.config?.theme?.sectionDescription, ansis.strip(summary))]
        }),
      {indentation: 2, spacer: '\n', stripAnsi: this.opts.stripAnsi},
    )
    return this.section('COMMANDS', body)
  }

  private formatTopics(topics: RootTopic[]): string {
    if (topics.length === 0) return ''
    const body = this.renderList(
      topics.map((topic) => {
        if (this.config.topicSeparator !== ':') topic.name = topic.name.replaceAll(':', this.config.topicSeparator)
        return [
          colorize(this.config?.theme?.topic, topic.name),
          topic.description && this.render(colorize(this.config?.theme?.sectionDescription, topic.description.split('\n')[0] ?? '')),
        ]
      }),
      {indentation: 2, spacer: '\n', stripAnsi: this.opts.stripAnsi},
    )
    return this.section('TOPICS', body)
  }

  /**
   * As oclif's Help.log, whose ux.stdout (node_modules/@oclif/core/lib/ux/write.js) is
   * console.log of util.format of the arguments: for strings, what console.log prints.
   */
  private log(...args: string[]): void {
    // eslint-disable-next-line no-console -- what oclif's ux.stdout and ux.stderr call
    if (this.opts.sendToStderr) console.error(...args)
    // eslint-disable-next-line no-console -- what oclif's ux.stdout and ux.stderr call
    else console.log(...args)
  }

  private sortedCommands(): RootCommand[] {
    const commands = (this.config.commands as unknown as RootCommand[]).filter((command) => this.opts.all || !command.hidden)
    return uniqBy(sortBy(commands, (command) => command.id), (command) => command.id)
  }

  /** oclif's `_topics` and `sortedTopics`: topics with children (commands or topics). */
  private sortedTopics(): RootTopic[] {
    const all = this.config.topics as unknown as RootTopic[]
    const topics = all.filter((topic) => all.some((other) => other.name.includes(`${topic.name}:`))).filter((topic) => this.opts.all || !topic.hidden)
    return uniqBy(sortBy(topics, (topic) => topic.name), (topic) => topic.name)
  }

  private summary(command: RootCommand): string | undefined {
    if (this.opts.sections && !this.opts.sections.map((section) => section.toLowerCase()).includes('summary')) return
    if (command.summary) return colorize(this.config?.theme?.commandSummary, this.render(command.summary.split('\n')[0] ?? ''))
    return command.description && colorize(this.config?.theme?.commandSummary, this.render(command.description).split('\n')[0] ?? '')
  }
}
