import {Command, Flags, type Interfaces} from '@oclif/core'

import {loadSettings, type Settings} from '../config/settings.js'
import type {Keyring} from '../crypto/keyring.js'
import {loadKeyring, serverKeyMissing} from '../crypto/load-keyring.js'
import {type OpenDatabase, openDatabase, type OpenProgress} from '../db/open-database.js'
import {repairHome} from '../db/private-home.js'
import type {Db} from '../db/schema.js'
import {SynthexError} from '../errors/synthex-error.js'
import type {Audit} from '../services/events/events.js'
import {flagNames} from '../services/telemetry/usage.js'
import {findWorkspace, type Workspace} from '../services/workspaces/workspaces.js'
import {type ErrorReport, EXIT_CODES, toErrorReport} from './error-report.js'
import {FlagValueError} from './flag-value-error.js'
import {Output} from './output.js'
import {canPrompt} from './prompt.js'
import {type Spinner, startSpinner} from './spinner.js'
import {describeUsageError, type UsageContext} from './usage-error.js'
import {waitAtMost} from './wait-at-most.js'
import {colorAllowedByEnvironment, currentEnvironment, keyEnvironment, variable} from '../config/environment.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
const CLOSE_TIMEOUT_MS = 5000
/** How long an interrupted command may spend reporting its run before it exits. */
const REPORT_ON_SIGNAL_MS = 1000

/**
 * The base of every synthex command: global flags, settings, the lazily opened database,
 * output, and the mapping of every failure to an exit code and the `--json` error shape.
 *
 * A command's `run()` returns its result object: oclif prints it under `--json`, and the
 * command renders it for people otherwise.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    color: Flags.boolean({
      allowNo: true,
      default: true,
      description: 'Colour in human output (never when output is not a terminal, or CI or NO_COLOR is set).',
      helpGroup: 'GLOBAL',
    }),
    'database-url': Flags.string({
      description:
        'Postgres server to use, e.g. postgres://user@host:5432/db?sslmode=require. Prefer the environment variable when the URL holds a password. [env: SYNTHEX_DATABASE_URL, DATABASE_URL] (default: the embedded database in $SYNTHEX_HOME)',
      helpGroup: 'GLOBAL',
      helpValue: '<url>',
    }),
    workspace: Flags.string({
      char: 'w',
      description: 'Workspace to work in. [env: SYNTHEX_WORKSPACE] (default: default)',
      helpGroup: 'GLOBAL',
      helpValue: '<slug>',
    }),
  }

  /**
   * `auto`: the embedded database migrates itself and a server database must be up to date.
   * `ignore`: the `db` commands, which are how a server database gets up to date.
   * `report`: like `auto` for the embedded database; a server database opens as it is.
   */
  static databaseMigrations: 'auto' | 'ignore' | 'report' = 'auto'
  /** Connections to a server database: more for commands that work in parallel. */
  static databasePoolSize = 4
  /**
   * How long one statement on a server database may take before the command gives up:
   * `bulk` for commands whose statements legitimately take long (an import's chunks,
   * migrations), `default` for the others. See DatabaseLimits.
   */
  static databaseStatements: 'bulk' | 'default' = 'default'
  static override enableJsonFlag = true
  /**
   * The command reads a secret: its usage errors never quote what was typed, since a secret
   * pasted as a stray argument would otherwise be echoed into logs.
   */
  static readsSecret = false

  protected args!: CommandArgs<T>
  /** How long to wait for a server database to accept a connection (default: SYNTHEX_DB_CONNECT_TIMEOUT). */
  protected connectTimeoutMs: number | undefined
  protected flags!: CommandFlags<T>
  protected settings!: Settings
  #database: Promise<OpenDatabase> | undefined
  /** Aborted on SIGINT/SIGTERM: a command still waiting for the embedded database's lock stops waiting. */
  readonly #opening = new AbortController()
  /** The database once open: an interrupted command reports through it without waiting for one. */
  #opened: OpenDatabase | undefined
  #homeChecked = false
  #interrupted = false
  #output: Output | undefined
  #signalHandlers = new Map<string, () => void>()
  #stop: (() => void) | undefined
  readonly #startedAt = performance.now()
  readonly #startedAtDate = new Date()
  #spinner: Spinner | undefined
  #workspace: Promise<Workspace> | undefined

  /** Who is acting, for the audit trail. */
  protected get audit(): Audit {
    return {actor: this.settings.actor, source: 'cli'}
  }

  protected get output(): Output {
    this.#output ??= this.makeOutput(this.settings?.colorAllowed ?? colorAllowedByEnvironment())
    return this.#output
  }

  override async catch(error: Interfaces.CommandError): Promise<void> {
    this.stopSpinner()
    // A signal handler is already cleaning up and will exit 130; whatever the interrupted
    // work threw on the way out is not news.
    if (this.#interrupted) return
    if ((error as {code?: string}).code === 'EEXIT') {
      process.exitCode = (error as {oclif?: {exit?: number}}).oclif?.exit ?? 0
      return
    }

    let report = toErrorReport(error)
    const usage = report.code === 'USAGE' ? describeUsageError(error, this.usageContext()) : undefined
    if (usage) {
      // Said in synthex's words, naming flags and what they accept but never what was typed.
      report = {...report, ...usage, details: {...report.details, ...usage.details}}
    } else if (report.code === 'USAGE' && (this.ctor as unknown as typeof BaseCommand).readsSecret) {
      // A flag whose value is refused is still named, with what it accepts.
      const message = error instanceof FlagValueError ? error.quietMessage : 'The command line is not valid for this command (what was typed is not repeated: it may hold a secret).'
      report = {...report, message}
    }

    process.exitCode = report.exitCode
    this.reportError(report, error)
  }

  override async finally(error: Error | undefined): Promise<void> {
    this.stopSpinner()
    for (const [signal, handler] of this.#signalHandlers) process.removeListener(signal, handler)
    try {
      // An interrupted run is reported, and its database closed, by the signal handler.
      if (!this.#interrupted) {
        await this.reportFinished(error)
        // A connection that stalls must not keep a finished command from exiting.
        await waitAtMost(this.closeDatabase(), CLOSE_TIMEOUT_MS)
      }
    } finally {
      await super.finally(error)
    }
  }

  override async init(): Promise<void> {
    await super.init()
    this.installSignalHandlers()
    const {args, flags} = await this.parse({
      // oclif reads a missing argument from piped standard input; piped input is where
      // synthex's secrets come from (--value-stdin, --from-csv -), so a forgotten TENANT-ID
      // would turn a token into a tenant id, repeated by the "does not exist" error.
      args: Object.fromEntries(Object.entries(this.ctor.args ?? {}).map(([name, arg]) => [name, {...arg, ignoreStdin: true}])),
      baseFlags: (this.ctor as unknown as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
    this.settings = loadSettings(currentEnvironment(), {color: flags.color, databaseUrl: flags['database-url'], workspace: flags.workspace})
    this.#output = this.makeOutput(this.settings.colorAllowed)
    if (flags['database-url'] && /^[^:]+:\/\/[^/@]*:[^/@]+@/.test(flags['database-url'])) {
      this.output.warn('--database-url holds a password, which other users can see in the process list; set DATABASE_URL instead.')
    }
  }

  /**
   * Plain JSON: never colourised, whatever oclif's theme would do on a terminal. After a
   * signal the interruption error is the one document, even if the work finishes meanwhile.
   */
  override logJson(json: unknown): void {
    if (this.#interrupted) return
    this.output.json(json)
  }

  /**
   * What an interrupted command kept and how to finish its job, said instead of the generic
   * interruption message; the command also stops its own progress output here.
   */
  protected interruption(): undefined | {details?: Record<string, unknown>; hint?: string; message: string} {
    return undefined
  }

  /**
   * For commands that run until told to stop (a server): from now on the first SIGINT or
   * SIGTERM calls `stop` instead of interrupting, and a second one interrupts.
   */
  protected stopWith(stop: () => void): void {
    this.#stop = stop
  }

  /** Whether a person can be asked a question (README, "Environment": no prompts under `CI`, nor with `--json`, nor off a terminal). */
  protected canPrompt(): boolean {
    return canPrompt({isCI: this.settings.isCI, json: this.jsonEnabled()})
  }

  /** The database handle, opened on first use so that help and usage errors never touch it. */
  protected async db(): Promise<Db> {
    return (await this.database()).db
  }

  protected async database(): Promise<OpenDatabase> {
    this.keepHomePrivate()
    const target = this.settings.database
    // A command with a short connect timeout (health check) waits less for the embedded
    // database's lock: giving up a little before its own timeout names the holder.
    const bounded =
      target.kind === 'embedded' && this.connectTimeoutMs !== undefined ? {...target, lockTimeoutMs: Math.min(target.lockTimeoutMs, Math.floor(this.connectTimeoutMs * 0.8))} : target
    this.#database ??= openDatabase(bounded, {
      command: (this.id ?? 'synthex').replaceAll(':', ' '),
      connectTimeoutMs: this.connectTimeoutMs,
      migrations: (this.ctor as unknown as typeof BaseCommand).databaseMigrations,
      poolSize: (this.ctor as unknown as typeof BaseCommand).databasePoolSize,
      statements: (this.ctor as unknown as typeof BaseCommand).databaseStatements,
      onProgress: (progress) => this.showProgress(progress),
      signal: this.#opening.signal,
    })
      .then((database) => (this.#opened = database))
      .finally(() => this.stopSpinner())
    return this.#database
  }

  /** A spinner on a terminal, a plain line in logs, nothing under `--json`. */
  protected spin(text: string): Spinner {
    this.stopSpinner()
    if (this.jsonEnabled()) return {stop() {}, update() {}}
    this.#spinner = startSpinner(text, {enabled: this.settings.colorAllowed && Boolean(process.stderr.isTTY)})
    return this.#spinner
  }

  /**
   * The encryption keys. `sealing`: about to encrypt, so the embedded key file is created
   * if there is none, and a server database without a configured key is refused.
   */
  protected keyring(options: {sealing: boolean}): Keyring {
    this.keepHomePrivate()
    const {keyring, notices} = loadKeyring(keyEnvironment(), this.settings.database, {createKeyFile: options.sealing})
    for (const notice of notices) this.output.warn(notice)
    if (options.sealing && !keyring.active && this.settings.database.kind === 'server') throw serverKeyMissing()
    return keyring
  }

  /** The workspace named by `--workspace` / `SYNTHEX_WORKSPACE`; it must exist. */
  protected async workspace(): Promise<Workspace> {
    this.#workspace ??= this.db().then((db) => findWorkspace(db, this.settings.workspace))
    return this.#workspace
  }

  /** Usage analytics and DogStatsD, through the `command_finished` hook; never fails the command. */
  private async reportFinished(error: Error | undefined, interrupted = false): Promise<void> {
    const exit = (error as {oclif?: {exit?: number}} | undefined)?.oclif?.exit
    const exitCode = interrupted ? EXIT_CODES.interrupted : typeof process.exitCode === 'number' ? process.exitCode : (exit ?? (error ? 1 : 0))
    const db = interrupted ? this.#opened?.db : this.#database ? await this.#database.then((database) => database.db).catch(() => undefined) : undefined
    const errorClass = interrupted ? 'interrupted' : error && (error as {code?: string}).code !== 'EEXIT' ? (error instanceof SynthexError ? error.code.toLowerCase() : error.name) : null
    try {
      await this.config.runHook('command_finished', {
        actor: this.settings?.actor ?? 'unknown',
        command: (this.id ?? 'synthex').replaceAll(':', ' '),
        db,
        durationMs: performance.now() - this.#startedAt,
        errorClass,
        exitCode,
        flags: flagNames(this.argv),
        startedAt: this.#startedAtDate,
      })
    } catch {
      // Analytics never break a command.
    }
  }

  /**
   * Once per command, before the embedded database or its key file is used: a $SYNTHEX_HOME
   * that other users can read is made private again, with one warning (see repairHome).
   */
  private keepHomePrivate(): void {
    const target = this.settings.database
    if (this.#homeChecked || target.kind !== 'embedded') return
    this.#homeChecked = true
    try {
      const notice = repairHome(target.home, target.dataDir)
      if (notice) this.output.warn(notice)
    } catch {
      // A directory that cannot be checked cannot be opened either: opening the database
      // (or the key file) reports what is wrong with it.
    }
  }

  /** The command's arguments and flags, as its usage errors name them. */
  private usageContext(): UsageContext {
    const ctor = this.ctor as unknown as typeof BaseCommand
    const json = this.ctor.enableJsonFlag ? {json: {type: 'boolean'}} : {}
    return {
      args: (this.ctor.args ?? {}) as UsageContext['args'],
      bin: this.config.bin,
      flags: {...ctor.baseFlags, ...this.ctor.flags, ...json} as unknown as UsageContext['flags'],
      id: (this.id ?? '').replaceAll(':', ' '),
    }
  }

  protected async closeDatabase(): Promise<void> {
    const opening = this.#database
    this.#database = undefined
    if (!opening) return
    const database = await opening.catch(() => undefined)
    await database?.close()
  }

  private installSignalHandlers(): void {
    for (const signal of SIGNALS) {
      const handler = (): void => void this.onSignal(signal)
      this.#signalHandlers.set(signal, handler)
      process.on(signal, handler)
    }
  }

  private makeOutput(colorAllowed: boolean): Output {
    const json = this.jsonEnabled()
    return new Output({
      json,
      stderrColor: colorAllowed && Boolean(process.stderr.isTTY),
      stdoutColor: colorAllowed && !json && Boolean(process.stdout.isTTY),
      stdoutTerminal: Boolean(process.stdout.isTTY),
    })
  }

  private async onSignal(signal: string): Promise<void> {
    const stop = this.#interrupted ? undefined : this.#stop
    if (stop) {
      // The first signal asks a long-running command to finish cleanly; a second one interrupts.
      this.#stop = undefined
      stop()
      return
    }

    if (this.#interrupted) process.exit(EXIT_CODES.interrupted)
    this.#interrupted = true
    // Should the event loop empty before this handler's own exit, the process still says 130.
    process.exitCode = EXIT_CODES.interrupted
    this.stopSpinner()
    const note = this.interruption()
    if (note) {
      // What was kept, on a line of its own; nothing the interrupted work prints comes after it.
      const report = {code: 'INTERRUPTED', details: note.details, exitCode: EXIT_CODES.interrupted, hint: note.hint, message: `Interrupted by ${signal}. ${note.message}`}
      if (this.jsonEnabled()) this.reportError(report)
      else {
        this.output.error(`Interrupted by ${signal}.`)
        this.output.info(note.message)
        if (note.hint) this.output.info(note.hint)
      }
    } else {
      this.reportError({code: 'INTERRUPTED', exitCode: EXIT_CODES.interrupted, message: `Interrupted by ${signal}; nothing after the last completed step was saved.`})
    }

    this.output.mute()
    // An interrupted run is still a run for usage analytics and DogStatsD, if that is quick.
    await waitAtMost(this.reportFinished(undefined, true), REPORT_ON_SIGNAL_MS)
    // Close the database (releasing the embedded lock, rolling back an open transaction),
    // but do not let a hung connection keep the process alive; one still waiting for the
    // embedded lock stops waiting.
    this.#opening.abort()
    await waitAtMost(this.closeDatabase().catch(() => {}), CLOSE_TIMEOUT_MS)
    process.exit(EXIT_CODES.interrupted)
  }

  private reportError(report: ErrorReport, error?: unknown): void {
    if (this.jsonEnabled()) {
      this.output.json({error: report})
      return
    }

    const debug = this.settings?.debug ?? variable('DEBUG') !== undefined
    const stack = debug && error instanceof Error ? (error.stack ?? '').split('\n').slice(1).join('\n') : undefined
    const issues = report.details?.issues
    const items = Array.isArray(issues) && issues.length > 1 ? issues.map((issue: {field: string; message: string}) => `${issue.field}: ${issue.message}`) : []
    this.output.error(items.length > 0 ? 'Invalid input:' : report.message, {hint: report.hint, items, stack})
  }

  protected showProgress(progress: OpenProgress): void {
    switch (progress.type) {
      case 'creating': {
        this.spin(`Creating the embedded database in ${progress.dataDir} (first run only)...`)
        break
      }

      case 'migrating': {
        this.spin(`Applying ${progress.pending.length} migration${progress.pending.length === 1 ? '' : 's'} to the embedded database...`)
        break
      }

      case 'waiting': {
        const who = progress.holder ? `process ${progress.holder.pid} (synthex ${progress.holder.command})` : 'another process'
        this.output.warn(`Waiting for the embedded database, in use by ${who}...`)
        break
      }
    }
  }

  protected stopSpinner(): void {
    this.#spinner?.stop()
    this.#spinner = undefined
  }
}
