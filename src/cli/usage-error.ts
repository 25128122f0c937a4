import {closest} from './suggest.js'

/** What the command line's parser knows of one flag (an oclif flag definition). */
export interface FlagLike {
  readonly allowNo?: boolean
  readonly char?: string
  readonly dependsOn?: readonly string[]
  readonly exclusive?: readonly string[]
  readonly helpValue?: string | readonly string[]
  readonly hidden?: boolean
  readonly options?: readonly string[]
  readonly required?: boolean
  readonly type?: string
}

/** What the parser knows of one argument. */
export interface ArgLike {
  readonly description?: string
  readonly options?: readonly string[]
  readonly required?: boolean
}

/** The command whose command line was refused, as its usage errors describe it. */
export interface UsageContext {
  readonly args: Readonly<Record<string, ArgLike>>
  readonly bin: string
  readonly flags: Readonly<Record<string, FlagLike>>
  /** `credentials set`, as typed. */
  readonly id: string
}

export interface UsageDescription {
  readonly details?: Readonly<Record<string, unknown>>
  readonly hint: string
  readonly message: string
}

/** The parts of oclif's parse errors read here (@oclif/core lib/parser/errors.js). */
interface ParseErrorLike extends Error {
  args?: unknown
  flags?: unknown
  parse?: {
    input?: {flags?: Record<string, FlagLike>}
    output?: {flags?: Record<string, unknown>; metadata?: {flags?: Record<string, {setFromDefault?: boolean}>}}
  }
}

/**
 * oclif's usage errors in synthex's words: the flag is named with what it accepts, an
 * unknown flag with the closest real one. What was typed as an argument is never repeated
 * (a secret pasted in the wrong place would land in logs); flag names and allowed values
 * are not secrets. Errors are told apart by oclif's error classes and the fields they
 * carry; the few the parser throws as a bare CLIError only by their fixed wording.
 * `undefined` for an error this does not know, which the caller reports as it was.
 */
export function describeUsageError(error: unknown, command: UsageContext): undefined | UsageDescription {
  if (!(error instanceof Error)) return undefined
  const err = error as ParseErrorLike
  const help = `Run \`${command.bin} ${command.id} --help\` for its arguments, flags and examples.`
  switch (error.constructor.name) {
    case 'NonExistentFlagsError': {
      return Array.isArray(err.flags) ? unknownFlags(err.flags.map(String), command, help) : undefined
    }

    case 'UnexpectedArgsError': {
      const extra = Array.isArray(err.args) ? err.args.length : 1
      const takes = argList(command)
      return {
        details: {unexpectedArguments: extra},
        hint: 'A value with spaces needs quotes, and a flag\'s value goes right after the flag (--name "Acme EU"). ' + help,
        message: `${extra === 1 ? 'An unexpected argument' : `${extra} unexpected arguments`} (not repeated here, in case ${extra === 1 ? 'it is' : 'one is'} a secret): \`${command.bin} ${command.id}\` takes ${takes.length === 0 ? 'no arguments' : takes.join(' ')}.`,
      }
    }

    case 'RequiredArgsError': {
      const missing = Array.isArray(err.args) ? (err.args as Array<{description?: string; name?: string; options?: string[]}>) : []
      if (missing.length === 0) return undefined
      const said = missing.map((arg) => `${(arg.name ?? 'argument').toUpperCase()}${arg.options ? `: one of ${arg.options.join(', ')}` : arg.description ? `: ${lowerFirst(arg.description.replace(/\.$/, ''))}` : ''}`)
      return {
        details: {missingArguments: missing.map((arg) => (arg.name ?? '').toUpperCase())},
        hint: `Usage: ${command.bin} ${command.id} ${argList(command).join(' ')}. ${help}`,
        message: `Missing ${said.join('; and ')}.`,
      }
    }

    case 'FlagInvalidOptionError': {
      // "Expected --<name>=<input> to be one of: ...": the flag is all that is read from it.
      const name = /^Expected --([\w-]+)=/.exec(error.message)?.[1]
      const flag = name === undefined ? undefined : command.flags[name]
      if (name === undefined || !flag?.options) return undefined
      return {details: {allowed: [...flag.options], flag: `--${name}`}, hint: help, message: `--${name} must be one of ${flag.options.join(', ')}.`}
    }

    case 'ArgInvalidOptionError': {
      const entry = Object.entries(command.args).find(([, arg]) => arg.options && error.message.endsWith(`to be one of: ${arg.options.join(', ')}\nSee more help with --help`))
      if (!entry) return undefined
      const [name, arg] = entry
      return {details: {allowed: [...(arg.options ?? [])], argument: name.toUpperCase()}, hint: help, message: `${name.toUpperCase()} must be one of ${(arg.options ?? []).join(', ')}.`}
    }

    case 'FailedFlagValidationError':
    case 'ViolatedFlagConstraintError': {
      const problems = flagProblems(err, command)
      return problems.length === 0 ? undefined : {details: {problems}, hint: help, message: sentence(problems)}
    }

    case 'CLIError': {
      return parserMistake(error.message, command, help)
    }

    default: {
      return undefined
    }
  }
}

/** What a flag's name looks like: lower-case words joined by `-`, or one character. */
const FLAG_LIKE = /^(?:--[a-z][\da-z]*(?:-[\da-z]+)*|-[\dA-Za-z])$/
const FLAG_NAME_MAX = 40

/** Unknown flags, each with the closest real one; `--flag=value` is named without its value. */
function unknownFlags(typed: readonly string[], command: UsageContext, help: string): UsageDescription {
  // `--flag=value` and `-xvalue` are named without what follows the flag.
  const names = typed.map((flag) => (flag.startsWith('--') ? flag.replace(/=.*$/s, '') : flag.slice(0, 2)))
  const longNames = Object.entries(command.flags)
    .filter(([, flag]) => !flag.hidden)
    .flatMap(([name, flag]) => (flag.allowNo ? [`--${name}`, `--no-${name}`] : [`--${name}`]))
  const shortNames = Object.values(command.flags).flatMap((flag) => (flag.char ? [`-${flag.char}`] : []))
  // A "flag" that does not look like one (`--shpat_...`) may be a secret after a stray `--`.
  const shown = names.filter((name) => FLAG_LIKE.test(name) && name.length <= FLAG_NAME_MAX)
  const said = shown.map((name) => {
    const suggestion = name.startsWith('--') ? closest(name, longNames) : undefined
    return suggestion ? `Unknown flag ${name}, did you mean ${suggestion}?` : `Unknown flag ${name}.`
  })
  const hidden = names.length - shown.length
  if (hidden > 0) said.push(`${hidden === 1 ? 'An unknown flag' : `${hidden} unknown flags`}, not repeated here in case ${hidden === 1 ? 'it is' : 'one is'} a secret.`)
  const message = said.join(' ')
  const short = shown.some((name) => /^-[^-]/.test(name))
  return {
    details: {unknownFlags: shown},
    hint: short ? `Its short flags: ${shortNames.length > 0 ? shortNames.join(', ') : 'none'}. ${help}` : help,
    message,
  }
}

/**
 * What is wrong with the flags as a whole, worked out again from the parse (oclif keeps only
 * sentences, which quote the values): required flags missing, flags that exclude each
 * other, flags that need another. Defaults do not count as given, as in oclif.
 */
function flagProblems(err: ParseErrorLike, command: UsageContext): string[] {
  const definitions = err.parse?.input?.flags ?? command.flags
  const values = err.parse?.output?.flags ?? {}
  const defaulted = err.parse?.output?.metadata?.flags ?? {}
  const given = (name: string): boolean => values[name] !== undefined && !defaulted[name]?.setFromDefault
  const problems: string[] = []
  const reported = new Set<string>()
  for (const [name, flag] of Object.entries(definitions)) {
    if (values[name] === undefined && flag.required) {
      problems.push(`--${name} is required${accepts(flag)}`)
      continue
    }

    if (!given(name)) continue
    for (const other of flag.exclusive ?? []) {
      const [first, second] = [name, other].sort()
      const pair = `${first} ${second}`
      if (!given(other) || reported.has(pair)) continue
      reported.add(pair)
      problems.push(`--${first} and --${second} cannot be used together: give one of them`)
    }

    const needed = (flag.dependsOn ?? []).filter((other) => values[other] === undefined)
    if (needed.length > 0) problems.push(`--${name} needs ${needed.map((other) => `--${other}`).join(' and ')} as well`)
  }

  return problems
}

/**
 * The few mistakes oclif's parser reports as a plain CLIError (lib/parser/parse.js), which
 * only their wording tells apart.
 */
function parserMistake(message: string, command: UsageContext, help: string): undefined | UsageDescription {
  const noValue = /^Flag --([\w-]+) expects (?:a value|one of these values)/.exec(message)
  if (noValue?.[1] !== undefined) {
    const name = noValue[1]
    return {details: {flag: `--${name}`}, hint: help, message: `--${name} needs a value${accepts(command.flags[name] ?? {})}.`}
  }

  const twice = /^Flag --([\w-]+) can only be specified once/.exec(message)
  if (twice?.[1] !== undefined) {
    return {details: {flag: `--${twice[1]}`}, hint: help, message: `--${twice[1]} is given more than once: give it once.`}
  }

  return undefined
}

/** `: one of a, b` or ` (<duration>)`, what a flag takes, for messages. */
function accepts(flag: FlagLike): string {
  if (flag.options) return `: one of ${flag.options.join(', ')}`
  const value = typeof flag.helpValue === 'string' ? flag.helpValue : undefined
  return value ? ` (${value})` : ''
}

function argList(command: UsageContext): string[] {
  return Object.entries(command.args).map(([name, arg]) => (arg.required ? name.toUpperCase() : `[${name.toUpperCase()}]`))
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? `${text.charAt(0).toLowerCase()}${text.slice(1)}` : text
}

function sentence(problems: readonly string[]): string {
  const text = problems.join('; ')
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`
}
