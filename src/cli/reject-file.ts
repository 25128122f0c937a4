import {createWriteStream, type WriteStream} from 'node:fs'
import {once} from 'node:events'

import {stringify} from 'csv-stringify/sync'

import {SynthexError} from '../errors/synthex-error.js'
import type {Rejection} from '../services/tenant-import.js'

/**
 * `--reject-file`: the rejected rows as they were, plus an `error` column saying why, so
 * they can be fixed and fed back (`error` is ignored on import). Opened before the import
 * starts, so that a path that cannot be written stops the command before anything is
 * imported; always written, if only with its header, so that a file left by an earlier run
 * never passes for this run's.
 */
export class RejectFile {
  #errorIndex = 0
  readonly #stream: WriteStream
  #width = 0

  private constructor(stream: WriteStream) {
    this.#stream = stream
  }

  static async open(path: string): Promise<RejectFile> {
    const stream = createWriteStream(path)
    try {
      await Promise.race([once(stream, 'open'), once(stream, 'error').then(([error]) => Promise.reject(error))])
    } catch (error) {
      throw new SynthexError(`--reject-file: ${path} cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, {code: 'USAGE', kind: 'usage'})
    }

    return new RejectFile(stream)
  }

  async close(): Promise<void> {
    this.#stream.end()
    await once(this.#stream, 'finish')
  }

  /** The input's header, plus `error` unless it has one already (a reject file fed back). */
  header(header: readonly string[]): void {
    const existing = header.findIndex((name) => name.trim().toLowerCase() === 'error')
    this.#errorIndex = existing === -1 ? header.length : existing
    this.#width = existing === -1 ? header.length + 1 : header.length
    this.#stream.write(stringify([existing === -1 ? [...header, 'error'] : [...header]]))
  }

  /** Waits when the disk is slower than the import, so memory does not fill with rejects. */
  async write(rejection: Rejection): Promise<void> {
    const fields = [...rejection.raw]
    while (fields.length < this.#width) fields.push('')
    fields[this.#errorIndex] = `line ${rejection.line}: ${rejection.reason}`
    if (!this.#stream.write(stringify([fields]))) await once(this.#stream, 'drain')
  }
}
