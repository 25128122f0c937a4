/**
 * Finds the synthex command lines in a text (a shell script, a CI file's `run:` or `script:`
 * body, a Jenkinsfile, a crontab, a systemd unit, a README's code blocks, a command's
 * examples) and checks each against oclif.manifest.json: that the command exists, that
 * its flags exist, that option flags get a value (one of their `options`, when they have
 * some) and switches get none, and that it gets the arguments and required flags it needs.
 *
 * The point is documentation and examples that cannot drift from the CLI: a renamed flag
 * or command fails a unit test naming the file, line and problem.
 */
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Scalar} from 'yaml'

export const MANIFEST_PATH = fileURLToPath(new URL('../../oclif.manifest.json', import.meta.url))

/** The program name `<%= config.bin %>` stands for, and the topic separator. */
const BIN = 'synthex'

export interface ManifestFlag {
  readonly allowNo?: boolean
  readonly aliases?: readonly string[]
  readonly char?: string
  readonly charAliases?: readonly string[]
  readonly description?: string
  readonly exclusive?: readonly string[]
  readonly hidden?: boolean
  readonly multiple?: boolean
  readonly name: string
  readonly options?: readonly string[]
  readonly required?: boolean
  readonly summary?: string
  readonly type: 'boolean' | 'option'
}

export interface ManifestArg {
  readonly description?: string
  readonly name: string
  readonly options?: readonly string[]
  readonly required?: boolean
}

export type ManifestExample = string | {readonly command: string; readonly description?: string}

export interface ManifestCommand {
  readonly aliases?: readonly string[]
  readonly args: Record<string, ManifestArg>
  readonly description?: string
  readonly examples?: readonly ManifestExample[]
  readonly flags: Record<string, ManifestFlag>
  readonly hidden?: boolean
  readonly id: string
  readonly strict?: boolean
  readonly summary?: string
}

export interface Manifest {
  readonly commands: Record<string, ManifestCommand>
}

export function loadManifest(path = MANIFEST_PATH): Manifest {
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest
}

/** One synthex invocation found in a text. */
export interface Invocation {
  /** The arguments synthex gets, as a shell would split them. */
  readonly argv: readonly string[]
  /** 1-based line of the text the invocation starts on. */
  readonly line: number
  /** Run through `npm run synthex`: npm keeps flags before a `--` for itself. */
  readonly npmRun: boolean
  /** The invocation as written, from the program name to where the command ends. */
  readonly text: string
}

export interface CommandLineResult {
  readonly argv: readonly string[]
  /** The command (or topic) it resolved to, space-separated (`health check`); undefined if none. */
  readonly command: string | undefined
  readonly line: number
  /** Empty when the command line is valid. */
  readonly problems: readonly string[]
  readonly text: string
}

// -------------------------------------------------------------------------------------------
// Finding invocations

/**
 * The program: `synthex` as a word of its own (`npx synthex`, `npm run synthex --`, `exec
 * synthex`, `$(synthex ...)`), a path to it (`/usr/local/bin/synthex`,
 * `./node_modules/.bin/synthex`, also after `ExecStart=`), or `bin/run.js` in the repository.
 * `~/.synthex`, `/etc/synthex/env`, `synthex.prom` and `postgres://synthex@...` are not it.
 */
const PROGRAM =
  /(?<![^\s'"(|;&`=])(?:[\w.@+~-]*\/)*\.?bin\/(?:synthex|run\.js)(?![^\s'"`);|&<>])|(?<![^\s'"(|;&`])synthex(?![^\s'"`);|&<>])/g

/** Lines joined where a backslash continues them, each with the number of its first line. */
function logicalLines(text: string, firstLine: number): Array<{line: number; text: string}> {
  const physical = text.split(/\r?\n/)
  const lines: Array<{line: number; text: string}> = []
  let current: {line: number; text: string} | undefined
  for (const [index, raw] of physical.entries()) {
    const continued = /(?<!\\)(?:\\\\)*\\$/.test(raw)
    const part = continued ? raw.slice(0, -1) : raw
    if (current) current.text += part
    else current = {line: firstLine + index, text: part}
    if (!continued) {
      lines.push(current)
      current = undefined
    }
  }

  if (current) lines.push(current)
  return lines
}

/**
 * Where the comment of a line starts (its length if none): an unquoted `#` starting a word
 * (shell, YAML, crontab, systemd) or an unquoted `//` starting one (Groovy, in a Jenkinsfile).
 */
function commentStart(line: string): number {
  let quote: '"' | "'" | undefined
  for (let index = 0; index < line.length; index++) {
    const char = line[index]
    if (quote) {
      if (char === '\\' && quote === '"') index++
      else if (char === quote) quote = undefined
      continue
    }

    if (char === '\\') {
      index++
      continue
    }

    if (char === '"' || char === "'") {
      quote = char
      continue
    }

    const wordStart = index === 0 || /\s/.test(line[index - 1] ?? '')
    if (wordStart && (char === '#' || line.startsWith('//', index))) return index
  }

  return line.length
}

interface Tokens {
  readonly end: number
  readonly tokens: string[]
}

/**
 * Splits a command line the way a shell would, from `start` to where the simple command
 * ends: `|`, `;`, `&`, `>`, `<`, `)`, a backtick, a `#` comment, or a quote opened before
 * `start` closing (`sh 'npx synthex ...'` in a Jenkinsfile, `"$(synthex ...)"`).
 */
function tokenize(line: string, start: number): Tokens {
  const tokens: string[] = []
  let current: string | undefined
  let index = start
  const push = (): void => {
    if (current !== undefined) tokens.push(current)
    current = undefined
  }

  while (index < line.length) {
    const char = line[index] as string
    if (/\s/.test(char)) {
      push()
      index++
      continue
    }

    if (current === undefined && char === '#') break
    if (current === undefined && char === '<') {
      // A documentation placeholder (`<tenant-id>`, `<file or ->`), not a redirection.
      const placeholder = /^<[^<>\s](?:[^<>]*[^<>\s])?>(?=$|[\s;|&)])/.exec(line.slice(index))?.[0]
      if (placeholder) {
        tokens.push(placeholder)
        index += placeholder.length
        continue
      }
    }

    if ('|;&)`'.includes(char)) break
    if (char === '>' || char === '<') {
      // `2>&1`: the descriptor number belongs to the redirection, not to the command.
      if (current !== undefined && /^\d+$/.test(current)) current = undefined
      break
    }

    if (char === "'") {
      const close = line.indexOf("'", index + 1)
      if (close === -1) break
      current = (current ?? '') + line.slice(index + 1, close)
      index = close + 1
      continue
    }

    if (char === '"') {
      let value = ''
      let cursor = index + 1
      let closed = false
      while (cursor < line.length) {
        const inner = line[cursor] as string
        if (inner === '\\' && cursor + 1 < line.length && '"\\$`'.includes(line[cursor + 1] as string)) {
          value += line[cursor + 1]
          cursor += 2
          continue
        }

        if (inner === '"') {
          closed = true
          break
        }

        value += inner
        cursor++
      }

      if (!closed) break
      current = (current ?? '') + value
      index = cursor + 1
      continue
    }

    if (char === '\\') {
      current = (current ?? '') + (line[index + 1] ?? '')
      index += 2
      continue
    }

    if (char === '$' && line[index + 1] === '(') {
      // A command substitution inside a word: kept as written, it is a value synthex gets.
      let depth = 0
      let cursor = index + 1
      for (; cursor < line.length; cursor++) {
        if (line[cursor] === '(') depth++
        else if (line[cursor] === ')' && --depth === 0) break
      }

      current = (current ?? '') + line.slice(index, cursor + 1)
      index = cursor + 1
      continue
    }

    current = (current ?? '') + char
    index++
  }

  push()
  return {end: index, tokens}
}

export interface FindOptions {
  /** The line number of the text's first line in its file (default 1). */
  readonly firstLine?: number
}

/** Every synthex invocation in a text, comments left out. */
export function findInvocations(text: string, options: FindOptions = {}): Invocation[] {
  const found: Invocation[] = []
  for (const {line, text: source} of logicalLines(text, options.firstLine ?? 1)) {
    const code = source.slice(0, commentStart(source))
    for (const match of code.matchAll(PROGRAM)) {
      const start = match.index + match[0].length
      const {end, tokens} = tokenize(code, start)
      // `sudo -u synthex synthex ...`: the first is a user name, the second the program.
      if (tokens[0] === BIN || tokens[0]?.endsWith(`/bin/${BIN}`)) continue
      const before = code.slice(0, match.index)
      // `npm install --save-dev synthex`: the package, not the program.
      if (/\b(?:npm|pnpm|yarn)\s+(?:install|i|add|ci|uninstall|remove|view|info|update)\b[^|;&]*$/.test(before)) continue
      const npmRun = /\bnpm\s+(?:run|run-script)\s+$/.test(before)
      const argv = npmRun && tokens[0] === '--' ? tokens.slice(1) : tokens
      found.push({argv, line, npmRun: npmRun && tokens[0] !== '--', text: code.slice(match.index, end).trim()})
    }
  }

  return found
}

// -------------------------------------------------------------------------------------------
// Checking invocations against the manifest

const display = (id: string): string => id.replaceAll(':', ' ')

/** A value a checker cannot know: a shell expansion or a documentation placeholder. */
const opaque = (value: string): boolean => /[$`]|^<.*>$|…|\.\.\./.test(value)

function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }

  return row[b.length] as number
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: {candidate: string; score: number} | undefined
  for (const candidate of candidates) {
    const score = distance(word, candidate)
    if (score <= Math.max(2, Math.floor(candidate.length / 3)) && (!best || score < best.score)) best = {candidate, score}
  }

  return best?.candidate
}

interface Index {
  readonly byId: Map<string, ManifestCommand>
  readonly topics: Set<string>
}

const indexes = new WeakMap<Manifest, Index>()

function indexOf(manifest: Manifest): Index {
  let index = indexes.get(manifest)
  if (index) return index
  const byId = new Map<string, ManifestCommand>()
  const topics = new Set<string>()
  for (const command of Object.values(manifest.commands)) {
    for (const id of [command.id, ...(command.aliases ?? [])]) {
      byId.set(id, command)
      const parts = id.split(':')
      for (let length = 1; length < parts.length; length++) topics.add(parts.slice(0, length).join(':'))
    }
  }

  index = {byId, topics}
  indexes.set(manifest, index)
  return index
}

/** A flag by its long name; `--no-x` is `--x` when that is a switch with `allowNo`. */
function longFlag(command: ManifestCommand, name: string): ManifestFlag | undefined {
  const flag = Object.values(command.flags).find((each) => each.name === name || each.aliases?.includes(name))
  if (flag || !name.startsWith('no-')) return flag
  const base = longFlag(command, name.slice(3))
  return base?.type === 'boolean' && base.allowNo ? base : undefined
}

function shortFlag(command: ManifestCommand, char: string): ManifestFlag | undefined {
  return Object.values(command.flags).find((flag) => flag.char === char || flag.charAliases?.includes(char))
}

function flagNames(command: ManifestCommand): string[] {
  return Object.values(command.flags).flatMap((flag) => [flag.name, ...(flag.allowNo ? [`no-${flag.name}`] : [])])
}

export interface CheckOptions {
  /** Run through `npm run synthex` without `--`. */
  readonly npmRun?: boolean
  /**
   * A usage synopsis (`synthex health check [--fail-on degraded|unhealthy] [-w <slug>]`)
   * rather than a command line: values may list alternatives (`a|b`), and arguments and
   * required or exclusive flags are not checked.
   */
  readonly usage?: boolean
}

/** What is wrong with the arguments after the program name; no problems when nothing is. */
export function checkArgv(argv: readonly string[], manifest: Manifest, options: CheckOptions = {}): {command: string | undefined; problems: string[]} {
  const {byId, topics} = indexOf(manifest)
  const problems: string[] = []
  const firstFlag = argv.findIndex((token) => token.startsWith('-') && token !== '-')
  const words = firstFlag === -1 ? [...argv] : argv.slice(0, firstFlag)
  const help = argv.includes('--help')
  // A shell function passing its own arguments on (`synthex() { npx --no -- synthex "$@"; }`).
  if (argv.length === 1 && argv[0] === '$@') return {command: undefined, problems}

  if (options.npmRun && firstFlag !== -1) {
    problems.push(`npm takes the flags itself: write \`npm run ${BIN} -- ${argv.join(' ')}\``)
  }

  let matched = 0
  for (let length = words.length; length > 0; length--) {
    if (byId.has(words.slice(0, length).join(':'))) {
      matched = length
      break
    }
  }

  if (matched === 0) {
    const rest = argv.slice(words.length)
    const stray = rest.filter((token) => token !== '--help' && token !== '--version')
    if (words.length === 0) {
      // `synthex`, `synthex --help`, `synthex --version`.
      for (const token of stray) problems.push(`${token} is not a flag of ${BIN} itself: name a command first`)
      return {command: undefined, problems}
    }

    const topic = words.join(':')
    if (topics.has(topic)) {
      // `synthex alerts` or `synthex alerts --help`: oclif lists the topic's commands.
      for (const token of stray) problems.push(`${token}: "${display(topic)}" is a topic, not a command; name one of its commands`)
      return {command: display(topic), problems}
    }

    let known = words.length - 1
    while (known > 0 && !topics.has(words.slice(0, known).join(':'))) known--
    const prefix = words.slice(0, known).join(':')
    // The commands and topics one level under the part that exists, for a suggestion.
    const under = (id: string): boolean => (known === 0 ? !id.includes(':') : id.startsWith(`${prefix}:`) && !id.slice(prefix.length + 1).includes(':'))
    const siblings = [...new Set([...byId.keys(), ...topics])].filter((id) => under(id)).sort()
    const suggestion = closest(words[known] as string, siblings.map((id) => id.split(':').at(-1) as string))
    problems.push(
      `"${display(topic)}" is not a ${BIN} command` +
        (suggestion ? ` (did you mean "${display(prefix ? `${prefix}:${suggestion}` : suggestion)}"?)` : '') +
        (known > 0 ? `; under "${display(prefix)}" there are: ${siblings.map(display).join(', ')}` : ''),
    )
    return {command: undefined, problems}
  }

  const command = byId.get(words.slice(0, matched).join(':')) as ManifestCommand
  const name = display(command.id)
  const rest = argv.slice(matched)
  const positionals: string[] = []
  const seen = new Set<string>()
  let endOfFlags = false

  for (let index = 0; index < rest.length; index++) {
    const token = rest[index] as string
    if (endOfFlags || !token.startsWith('-') || token === '-') {
      positionals.push(token)
      continue
    }

    if (token === '--') {
      endOfFlags = true
      continue
    }

    if (token === '--help' || token === '--version') continue

    let flag: ManifestFlag | undefined
    let value: string | undefined
    let written: string
    if (token.startsWith('--')) {
      const equals = token.indexOf('=')
      const flagName = equals === -1 ? token.slice(2) : token.slice(2, equals)
      value = equals === -1 ? undefined : token.slice(equals + 1)
      written = `--${flagName}`
      flag = longFlag(command, flagName)
      if (!flag) {
        const suggestion = closest(flagName, flagNames(command))
        problems.push(`unknown flag ${written} for "${name}"${suggestion ? ` (did you mean --${suggestion}?)` : ''}; its flags are: ${flagNames(command).map((each) => `--${each}`).join(' ')}`)
        continue
      }
    } else {
      const char = token[1] as string
      written = `-${char}`
      flag = shortFlag(command, char)
      if (!flag) {
        problems.push(`unknown flag ${written} for "${name}"`)
        continue
      }

      if (token.length > 2) value = token[2] === '=' ? token.slice(3) : token.slice(2)
    }

    // Given twice, the last one wins (oclif does not complain), so that is not checked.
    seen.add(flag.name)
    if (flag.type === 'boolean') {
      if (value !== undefined) problems.push(`${written} is a switch of "${name}" and takes no value (got "${value}")`)
      continue
    }

    if (value === undefined) {
      const next = rest[index + 1]
      if (next === undefined || /^--?[a-zA-Z]/.test(next) || next === '--') {
        problems.push(`${written} of "${name}" needs a value`)
        continue
      }

      value = next
      index++
    }

    const values = options.usage ? value.split('|') : [value]
    for (const each of values) {
      if (flag.options && !opaque(each) && !flag.options.includes(each)) {
        problems.push(`${written} of "${name}" got "${each}", which is not one of: ${flag.options.join(', ')}`)
      }
    }
  }

  if (command.id === 'help') {
    // `synthex help batch tenants create`: what follows must name a command or a topic.
    const subject = positionals.join(':')
    if (subject && !options.usage && !byId.has(subject) && !topics.has(subject)) problems.push(`"help ${display(subject)}": "${display(subject)}" is not a ${BIN} command or topic`)
    return {command: name, problems}
  }

  if (help || options.usage) return {command: name, problems}

  const args = Object.values(command.args)
  if (command.strict !== false && positionals.length > args.length) {
    const extra = positionals.slice(args.length)
    problems.push(
      args.length === 0
        ? `"${name}" takes no arguments, got ${extra.map((each) => `"${each}"`).join(' ')}` + (topics.has(command.id) ? ` (is "${display([command.id, ...extra].join(':'))}" meant? it is not a command)` : '')
        : `too many arguments for "${name}" (takes ${args.map((arg) => `<${arg.name}>`).join(' ')}): ${extra.map((each) => `"${each}"`).join(' ')}`,
    )
  }

  for (const [position, arg] of args.entries()) {
    const value = positionals[position]
    if (value === undefined) {
      if (arg.required) problems.push(`"${name}" needs its argument <${arg.name}>`)
      continue
    }

    if (arg.options && !opaque(value) && !arg.options.includes(value)) problems.push(`<${arg.name}> of "${name}" got "${value}", which is not one of: ${arg.options.join(', ')}`)
  }

  for (const flag of Object.values(command.flags)) {
    if (flag.required && !seen.has(flag.name)) problems.push(`"${name}" needs --${flag.name}`)
    for (const other of flag.exclusive ?? []) {
      if (seen.has(flag.name) && seen.has(other) && flag.name < other) problems.push(`--${flag.name} and --${other} of "${name}" cannot be used together`)
    }
  }

  return {command: name, problems}
}

export function checkInvocation(invocation: Invocation, manifest: Manifest): CommandLineResult {
  const {command, problems} = checkArgv(invocation.argv, manifest, {npmRun: invocation.npmRun})
  return {argv: invocation.argv, command, line: invocation.line, problems, text: invocation.text}
}

/** Finds and checks every synthex command line of a text. */
export function checkCommandLines(text: string, manifest: Manifest, options: FindOptions = {}): CommandLineResult[] {
  return findInvocations(text, options).map((invocation) => checkInvocation(invocation, manifest))
}

/** The failures of some results, one line each, for a test's message; empty when none failed. */
export function formatProblems(results: readonly CommandLineResult[], source: string): string {
  return results
    .filter((result) => result.problems.length > 0)
    .flatMap((result) => result.problems.map((problem) => `${source}:${result.line}: ${result.text}\n    ${problem}`))
    .join('\n')
}

// -------------------------------------------------------------------------------------------
// Where command lines are in the files that hold them

export interface CommandText {
  /** The line of the file the text starts on. */
  readonly firstLine: number
  /** Command lines (the default), or one usage synopsis. */
  readonly kind?: 'commands' | 'usage'
  readonly text: string
}

/** Section headings of oclif's help output (`synthex <command> --help`, `oclif readme`). */
const HELP_SECTION = /^[A-Z][A-Z ]*[A-Z]$/

/**
 * The command lines of a Markdown file: its fenced code blocks, everything else blanked so
 * that line numbers stay those of the file. A block of oclif help output (a generated
 * command reference) contributes its USAGE synopsis, checked as such, and the commands of
 * its EXAMPLES; its descriptions are prose.
 */
export function markdownCommandTexts(markdown: string): CommandText[] {
  const lines = markdown.split(/\r?\n/)
  const kept = lines.map(() => '')
  const usages: CommandText[] = []
  let index = 0
  while (index < lines.length) {
    const fence = /^\s*(`{3,}|~{3,})/.exec(lines[index] as string)?.[1]
    index++
    if (!fence) continue
    const start = index
    const closing = new RegExp(`^\\s*\\${fence[0]}{${fence.length},}\\s*$`)
    while (index < lines.length && !closing.test(lines[index] as string)) index++
    const block = lines.slice(start, index)
    index++
    const help = block.some((line) => line === 'USAGE') && block.some((line) => line === 'DESCRIPTION' || line === 'FLAGS' || line === 'EXAMPLES')
    if (!help) {
      for (const [offset, line] of block.entries()) kept[start + offset] = line
      continue
    }

    let section = ''
    let usage: {firstLine: number; parts: string[]} | undefined
    let continued = false
    for (const [offset, line] of block.entries()) {
      if (HELP_SECTION.test(line)) {
        section = line
        continue
      }

      if (section === 'USAGE') {
        if (line.trim() === '') {
          if (usage) usages.push({firstLine: usage.firstLine, kind: 'usage', text: usage.parts.join(' ')})
          usage = undefined
        } else if (usage) usage.parts.push(line.trim())
        else usage = {firstLine: start + offset + 1, parts: [line.trim()]}
      } else if (section === 'EXAMPLES') {
        // Commands are indented 4 (2 with a `$ ` prompt); their descriptions 2.
        if (continued || /^ {4}/.test(line) || /^\s*\$ /.test(line)) kept[start + offset] = line
        continued = kept[start + offset] !== '' && line.endsWith('\\')
      }
    }

    if (usage) usages.push({firstLine: usage.firstLine, kind: 'usage', text: usage.parts.join(' ')})
  }

  return [{firstLine: 1, text: kept.join('\n')}, ...usages]
}

/** The lines of a systemd unit that run programs (`ExecStart=` and friends), others blanked. */
export function systemdExecLines(unit: string): string {
  return unit
    .split(/\r?\n/)
    .map((line) => {
      const match = /^\s*Exec(?:Start|StartPre|StartPost|Stop|StopPost|Reload|Condition)\s*=\s*(.*)$/.exec(line)
      // Leading `-`, `@`, `:`, `+`, `!` are systemd's prefixes, not part of the command.
      return match ? (match[1] as string).replace(/^[-@:+!]+/, '') : ''
    })
    .join('\n')
}

/**
 * The shell scripts of a CI YAML file: every string (or list of strings) under a `run` key
 * (GitHub Actions steps) or `script`, `before_script`, `after_script` (GitLab CI jobs).
 */
export function yamlScripts(source: string): CommandText[] {
  const lineCounter = new LineCounter()
  const document = parseDocument(source, {lineCounter})
  if (document.errors.length > 0) throw new Error(document.errors.map((error) => error.message).join('\n'))
  const scripts: CommandText[] = []
  const add = (node: unknown): void => {
    if (!isScalar(node) || typeof node.value !== 'string') return
    const scalar = node as Scalar<string>
    const offset = scalar.range?.[0] ?? 0
    const block = scalar.type === 'BLOCK_LITERAL' || scalar.type === 'BLOCK_FOLDED'
    scripts.push({firstLine: lineCounter.linePos(offset).line + (block ? 1 : 0), text: scalar.value})
  }

  visit(document, {
    Pair(_, pair) {
      const key = isScalar(pair.key) ? pair.key.value : undefined
      if (typeof key !== 'string' || !['after_script', 'before_script', 'run', 'script'].includes(key)) return
      if (isSeq(pair.value)) for (const item of pair.value.items) add(item)
      else if (!isMap(pair.value)) add(pair.value)
    },
  })
  return scripts
}

/**
 * The texts of a file that hold command lines, by the kind of file: a YAML file's scripts,
 * a Markdown file's code blocks, a systemd unit's Exec lines, anything else whole
 * (shell scripts, a Jenkinsfile, a crontab).
 */
export function commandTexts(fileName: string, source: string): CommandText[] {
  if (/\.ya?ml$/.test(fileName)) return yamlScripts(source)
  if (/\.(?:md|markdown)$/.test(fileName)) return markdownCommandTexts(source)
  if (/\.(?:service|socket|timer|path|mount)$/.test(fileName)) return [{firstLine: 1, text: systemdExecLines(source)}]
  return [{firstLine: 1, text: source}]
}

/** Finds and checks every synthex command line of a file's text. */
export function checkFile(fileName: string, source: string, manifest: Manifest): CommandLineResult[] {
  return commandTexts(fileName, source).flatMap(({firstLine, kind, text}) => (kind === 'usage' ? [checkUsage(text, manifest, {firstLine})] : checkCommandLines(text, manifest, {firstLine})))
}

/**
 * Checks a usage synopsis as oclif prints it: `$ synthex alerts channels add NAME --type
 * console|pagerduty [--json] [-w <slug>] [--from-env <NAME> | --value-stdin]`: the command
 * exists, every flag it shows exists, and the values it lists are the flag's options.
 */
export function checkUsage(text: string, manifest: Manifest, options: FindOptions = {}): CommandLineResult {
  const line = options.firstLine ?? 1
  const synopsis = text.trim().replace(/^\$\s+/, '')
  const program = new RegExp(`^(?:\\S*/)?${BIN}(?:\\s|$)`).exec(synopsis)
  if (!program) return {argv: [], command: undefined, line, problems: [`not a ${BIN} usage synopsis`], text: synopsis}
  // Brackets (optional), parentheses (groups) and ` | ` (one of these flags) say nothing a
  // checker needs; a placeholder may hold spaces (`<file or ->`).
  const argv = synopsis
    .slice(program[0].length)
    .replaceAll(/[[\]()]/g, ' ')
    .replaceAll(/\s\|\s/g, ' ')
    .match(/<[^<>]*>|\S+/g) ?? []
  const {command, problems} = checkArgv(argv, manifest, {usage: true})
  return {argv, command, line, problems, text: synopsis}
}

// -------------------------------------------------------------------------------------------
// The manifest's own examples

export interface ExampleLine {
  readonly id: string
  /** The example's command with its templates expanded (`synthex health check --json`). */
  readonly text: string
}

/** Expands `<%= config.bin %>` and `<%= command.id %>` as oclif's help does, topics space-separated. */
export function expandTemplate(text: string, commandId: string): string {
  return text.replaceAll(/<%=\s*config\.bin\s*%>/g, BIN).replaceAll(/<%=\s*command\.id\s*%>/g, display(commandId))
}

export function manifestExamples(manifest: Manifest): ExampleLine[] {
  return Object.values(manifest.commands).flatMap((command) =>
    (command.examples ?? []).map((example) => ({id: command.id, text: expandTemplate(typeof example === 'string' ? example : example.command, command.id)})),
  )
}
