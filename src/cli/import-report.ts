import {createReadStream, fstatSync, type Stats} from 'node:fs'
import {stat} from 'node:fs/promises'
import type {Readable} from 'node:stream'

import {SynthexError} from '../errors/synthex-error.js'
import type {Rejection} from '../services/import/tenant-row.js'
import type {Output} from './output.js'
import {type ImportProgress, rowsPerSecond} from './progress.js'
import {type FileIdentity, RejectFile} from './reject-file.js'
import {thousands} from '../text/thousands.js'

/**
 * What the batch commands share around their import: opening the file (or standard input),
 * and saying what happened. The summary's mark and verbs follow the outcome: a ✓ only when
 * something was written and nothing rejected; "would create" on a dry run; "rolled back:
 * nothing written" when an atomic run kept nothing.
 */

const SHOWN_REJECTIONS = 50

/** The input, and which file it is (standard input too, when a file is redirected to it), so the reject file cannot be it. */
export async function openImportInput(flag: string, from: string): Promise<{identity?: FileIdentity; info?: Stats; input: Readable}> {
  if (from === '-') {
    const info = (() => {
      try {
        return fstatSync(0)
      } catch {
        return undefined
      }
    })()
    return {identity: info?.isFile() ? info : undefined, info: info?.isFile() ? info : undefined, input: process.stdin}
  }

  const info = await stat(from).catch(() => undefined)
  if (!info) throw new SynthexError(`--${flag}: ${from} does not exist.`, {code: 'FILE_NOT_FOUND', kind: 'usage'})
  if (!info.isFile()) throw new SynthexError(`--${flag}: ${from} is not a file.`, {code: 'FILE_NOT_FOUND', kind: 'usage'})
  return {identity: info, info, input: createReadStream(from, {highWaterMark: 1 << 18})}
}

export interface ImportOutcome {
  readonly atomic: boolean
  /** Columns of the file left out by --ignore-unknown-columns. */
  readonly ignoredColumns?: readonly string[]
  readonly committed: boolean
  readonly dryRun: boolean
  readonly durationMs: number
  readonly read: number
  readonly rejected: number
  readonly rejections: ReadonlyArray<{readonly line: number; readonly reason: string}>
}

export interface ImportVerbs {
  /** Counts of rows that changed something, by past-tense verb: `created`, `updated`, `rotated`. */
  readonly changed: ReadonlyArray<readonly [verb: string, count: number]>
  /** Counts of rows that changed nothing: `skipped`, `unchanged`. */
  readonly unchanged: ReadonlyArray<readonly [verb: string, count: number]>
}

const n = thousands
const would: Record<string, string> = {
  activated: 'activate',
  created: 'create',
  deactivated: 'deactivate',
  deleted: 'delete',
  rotated: 'rotate',
  suspended: 'suspend',
  updated: 'update',
}

/** The one-line summary of an import, and whether it earns a ✓. */
export function importSummary(outcome: ImportOutcome, verbs: ImportVerbs, source: string, action = 'Imported'): {success: boolean; text: string} {
  const seconds = outcome.durationMs < 1000 ? `${Math.round(outcome.durationMs)} ms` : `${(outcome.durationMs / 1000).toFixed(1)}s`
  // A rate over a fraction of a second says more about startup than about throughput.
  const rate = outcome.durationMs < 1000 ? '' : ` (${n(rowsPerSecond(outcome.read, outcome.durationMs))} rows/s)`
  const moved = verbs.changed.reduce((sum, [, count]) => sum + count, 0)
  const rejected = `${n(outcome.rejected)} rejected`
  if (outcome.dryRun) {
    const counts = [`${n(outcome.read)} read`, ...verbs.changed.map(([verb, count]) => `would ${would[verb] ?? verb} ${n(count)}`), ...verbs.unchanged.map(([verb, count]) => `${n(count)} ${verb}`), rejected]
    return {success: false, text: `Dry run of ${source} (${seconds}): ${counts.join(', ')}. Nothing was written.`}
  }

  if (!outcome.committed) {
    return {success: false, text: `Rolled back: nothing written from ${source} (--atomic, ${seconds}): ${n(outcome.read)} read, ${rejected}; fix the rejected rows and run it again.`}
  }

  const counts = [`${n(outcome.read)} read`, ...[...verbs.changed, ...verbs.unchanged].map(([verb, count]) => `${n(count)} ${verb}`), rejected].join(', ')
  if (moved === 0 && outcome.rejected === 0) return {success: false, text: `Nothing changed from ${source} (${seconds}): ${counts}.`}
  if (moved === 0) return {success: false, text: `Nothing written from ${source} (${seconds}): ${counts}.`}
  if (outcome.rejected > 0) return {success: false, text: `${action} ${source} in part (${seconds}): ${counts}.`}
  return {success: true, text: `${action} ${source} in ${seconds}${rate}: ${counts}.`}
}

/** The summary, then the first rejected rows and where the rest are. */
/** Says what an import did, and sets exit code 3 (a partial outcome) when it rejected rows. */
export function reportImport(out: Output, outcome: ImportOutcome, verbs: ImportVerbs, options: {action?: string; rejectPath?: string; source: string}): void {
  const ignored = outcome.ignoredColumns ?? []
  if (ignored.length > 0) out.info(`Ignored column${ignored.length > 1 ? 's' : ''}: ${ignored.join(', ')}.`)
  if (outcome.rejected > 0) process.exitCode = 3
  const summary = importSummary(outcome, verbs, options.source, options.action)
  if (summary.success) out.success(summary.text)
  else out.info(summary.text)
  if (outcome.rejected === 0) return
  out.info('Rejected rows:')
  for (const rejection of outcome.rejections.slice(0, SHOWN_REJECTIONS)) out.info(`  line ${rejection.line}: ${rejection.reason}`)
  const more = outcome.rejected - Math.min(SHOWN_REJECTIONS, outcome.rejections.length)
  if (more > 0) out.info(`  ... and ${n(more)} more${options.rejectPath ? '' : ' (use --reject-file to get them all)'}.`)
  if (options.rejectPath) out.info(`The rejected rows are in ${options.rejectPath}, with an error column: fix them and import that file.`)
}

/** Where the rows came from, for people. */
export function sourceName(from: string): string {
  return from === '-' ? 'standard input' : from
}

/** What a batch service takes from its command: the reject file's hooks, and progress. */
export interface BatchHooks<C> {
  onHeader(header: readonly string[]): void
  onProgress(counts: Readonly<C>): void
  onRejected(rejection: Rejection): Promise<void> | void
}

/**
 * A batch command's run around its service: the reject file beside the input, progress on
 * stderr, the summary, and the input and reject file closed whatever happens.
 */
export async function runBatch<C extends {read: number}, R extends ImportOutcome>(
  out: Output,
  opened: {readonly identity?: FileIdentity; readonly input: Readable},
  options: {action?: string; from: string; progress: ImportProgress<C>; rejectPath?: string; verbs: (result: R) => ImportVerbs},
  work: (hooks: BatchHooks<C>) => Promise<R>,
): Promise<R> {
  const {progress, rejectPath} = options
  const rejects = rejectPath ? await RejectFile.open(rejectPath, {input: opened.identity}) : undefined
  try {
    const result = await work({onHeader: (header) => rejects?.header(header), onProgress: (counts) => progress.update(counts), onRejected: (rejection) => rejects?.write(rejection)})
    progress.done()
    reportImport(out, result, options.verbs(result), {action: options.action, rejectPath, source: sourceName(options.from)})
    return result
  } finally {
    progress.done()
    opened.input.destroy()
    await rejects?.close()
  }
}
