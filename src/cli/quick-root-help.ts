import {existsSync} from 'node:fs'

import type {Config} from '@oclif/core'
import {flush} from '@oclif/core/flush'

import {oclifUserFiles} from '../config/oclif-environment.js'
import SynthexHelp from './help.js'
import {userAgent} from './user-agent.js'

/**
 * What oclif's Config holds that the root help reads, written by scripts/build.mjs into
 * dist/root-help.js from oclif's own Config (with the manifest) at build time.
 */
export interface RootHelpData {
  readonly bin: string
  readonly commands: ReadonlyArray<{aliases: string[]; description?: string; hidden?: boolean; id: string; summary?: string}>
  readonly isSingleCommandCLI: boolean
  readonly pjson: {description?: string; name: string; oclif: Record<string, unknown>; version?: string}
  readonly topicSeparator: string
  readonly topics: ReadonlyArray<{description?: string; hidden?: boolean; name: string}>
}

/**
 * `synthex` and `synthex --help` without oclif's start-up (reading package.json and the
 * manifest, plugins, hooks): synthex's own help class renders the root help, with oclif's
 * formatter, from what oclif's Config held at build time. Returns false, having printed
 * nothing, when oclif could print something else: a colour theme or user plugins of the
 * user's own, Windows, or no dist/root-help.js.
 */
export async function showRootHelpQuickly(data: URL, argv: string[]): Promise<boolean> {
  if (process.platform === 'win32') return false
  const files = oclifUserFiles()
  if (existsSync(files.theme) || existsSync(files.plugins)) return false
  let help: RootHelpData
  try {
    help = ((await import(data.href)) as {default: RootHelpData}).default
  } catch {
    return false
  }

  const config = {
    bin: help.bin,
    commands: help.commands.map((command) => ({...command, aliases: [...command.aliases]})),
    isSingleCommandCLI: help.isSingleCommandCLI,
    pjson: help.pjson,
    theme: undefined,
    topicSeparator: help.topicSeparator,
    topics: help.topics.map((topic) => ({...topic})),
    userAgent: userAgent(help.pjson),
  }
  await new SynthexHelp(config as unknown as Config).showHelp(argv)
  await flush()
  return true
}
