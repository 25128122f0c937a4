import {randomBytes} from 'node:crypto'
import {closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {lstat, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

import {stringify} from 'csv-stringify/sync'

import {SynthexError} from '../errors/synthex-error.js'
import type {Rejection} from '../services/import/tenant-import.js'
import {neutraliseFormula, restoreFormula} from '../text/spreadsheet-formula.js'

/** Which file a path is: two paths (a hard link, a symlink) to one file have the same. */
export interface FileIdentity {
  readonly dev: number
  readonly ino: number
}

/** Rejects are written in blocks of this size, so a million bad rows are not a million writes. */
const BLOCK_BYTES = 64 * 1024

const usage = (message: string): SynthexError => new SynthexError(message, {code: 'USAGE', kind: 'usage'})

/**
 * `--reject-file`: the rejected rows as they were, plus an `error` column saying why, so
 * they can be fixed and fed back (`error` is ignored on import). Opened before the import
 * starts, so that a path that cannot be written stops the command before anything is
 * imported; always written, if only with its header, so that a file left by an earlier run
 * never passes for this run's.
 *
 * The rows go to a new file beside the target, which is renamed over it at the end: a
 * symlink at the path is replaced rather than written through (it could point at any file
 * the user can write), and the file being imported is refused outright, since writing
 * there would destroy the rows being read. An interrupted import still puts what it has
 * in place, on the way out.
 *
 * Cells are written as every synthex CSV is (src/text/spreadsheet-formula.ts): a cell a
 * spreadsheet would run starts with a quote, which the import takes off again.
 */
export class RejectFile {
  #blocks: string[] = []
  #buffered = 0
  #errorIndex = 0
  #fd: number | undefined
  readonly #onExit = (): void => this.#finishOnExit()
  readonly #target: string
  readonly #temporary: string
  #width = 0

  private constructor(target: string, temporary: string, fd: number) {
    this.#target = target
    this.#temporary = temporary
    this.#fd = fd
    process.once('exit', this.#onExit)
  }

  /** `input`: the file being imported, which the reject file must not be. */
  static async open(path: string, options: {input?: FileIdentity} = {}): Promise<RejectFile> {
    const link = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined
      throw usage(`--reject-file: ${path} cannot be written (${error.code ?? 'error'}).`)
    })
    // A symlink is replaced, but where it leads still says whether it is the input or a
    // device (/dev/stdout is a symlink): replacing those would surprise anyone.
    const target = link?.isSymbolicLink() ? await stat(path).catch(() => undefined) : link
    if (target?.isDirectory()) throw usage(`--reject-file: ${path} is a directory; give the path of a file to write.`)
    if (target && options.input && target.dev === options.input.dev && target.ino === options.input.ino) {
      throw usage(`--reject-file: ${path} is the file being imported; writing the rejected rows there would destroy it. Give another path.`)
    }

    if (target && !target.isFile()) throw usage(`--reject-file: ${path} is not a regular file (a device, a pipe or a socket); give the path of a file to write.`)

    const temporary = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`)
    let fd: number
    try {
      // O_EXCL: never opens an existing file, nor follows a symlink planted at this name.
      fd = openSync(temporary, 'wx', 0o666)
    } catch (error) {
      throw usage(`--reject-file: ${path} cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'}).`)
    }

    // A file that is replaced keeps its permissions (someone may have made it private).
    if (link?.isFile()) fchmodSync(fd, link.mode & 0o777)
    return new RejectFile(path, temporary, fd)
  }

  /** Writes what is left and puts the file in place. */
  async close(): Promise<void> {
    if (this.#fd === undefined) return
    process.removeListener('exit', this.#onExit)
    try {
      this.#flush()
      fsyncSync(this.#fd)
    } finally {
      closeSync(this.#fd)
      this.#fd = undefined
    }

    try {
      renameSync(this.#temporary, this.#target)
    } catch (error) {
      throw new SynthexError(`--reject-file: ${this.#target} could not be replaced (${(error as NodeJS.ErrnoException).code ?? 'error'}); the rejected rows are in ${this.#temporary}.`, {
        code: 'REJECT_FILE_FAILED',
      })
    }
  }

  /** The input's header, plus `error` unless it has one already (a reject file fed back). */
  header(header: readonly string[]): void {
    const existing = header.findIndex((name) => name.trim().toLowerCase() === 'error')
    this.#errorIndex = existing === -1 ? header.length : existing
    this.#width = existing === -1 ? header.length + 1 : header.length
    this.#append(existing === -1 ? [...header, 'error'] : [...header])
  }

  async write(rejection: Rejection): Promise<void> {
    // The values the import read from each field, written back as synthex writes them.
    const fields = rejection.raw.map((field) => restoreFormula(field))
    while (fields.length < this.#width) fields.push('')
    fields[this.#errorIndex] = `line ${rejection.line}: ${rejection.reason}`
    this.#append(fields)
  }

  #append(fields: readonly string[]): void {
    const line = stringify([fields.map((field) => neutraliseFormula(field))])
    this.#blocks.push(line)
    this.#buffered += line.length
    if (this.#buffered >= BLOCK_BYTES) this.#flush()
  }

  /** The process is exiting (interrupted) before `close`: what was rejected so far still lands. */
  #finishOnExit(): void {
    if (this.#fd === undefined) return
    try {
      this.#flush()
      closeSync(this.#fd)
      this.#fd = undefined
      renameSync(this.#temporary, this.#target)
    } catch {
      try {
        unlinkSync(this.#temporary)
      } catch {
        // Nothing more can be done on the way out.
      }
    }
  }

  #flush(): void {
    if (this.#fd === undefined || this.#blocks.length === 0) return
    const data = Buffer.from(this.#blocks.join(''), 'utf8')
    this.#blocks = []
    this.#buffered = 0
    let offset = 0
    while (offset < data.length) offset += writeSync(this.#fd, data, offset)
  }
}
