import {createWriteStream, type WriteStream} from 'node:fs'
import {once} from 'node:events'

import {stringify} from 'csv-stringify/sync'

import type {Rejection} from '../services/tenant-import.js'

/**
 * `--reject-file`: the rejected rows as they were, plus an `error` column saying why, so
 * they can be fixed and fed back (`error` is ignored on import). Always written, if only
 * with its header, so that a file left by an earlier run never passes for this run's.
 */
export class RejectFile {
  readonly #errorIndex: number
  readonly #stream: WriteStream
  readonly #width: number

  private constructor(stream: WriteStream, header: readonly string[]) {
    this.#stream = stream
    const existing = header.findIndex((name) => name.trim().toLowerCase() === 'error')
    this.#errorIndex = existing === -1 ? header.length : existing
    this.#width = existing === -1 ? header.length + 1 : header.length
    this.#stream.write(stringify([existing === -1 ? [...header, 'error'] : [...header]]))
  }

  static async open(path: string, header: readonly string[]): Promise<RejectFile> {
    const stream = createWriteStream(path)
    await once(stream, 'open')
    return new RejectFile(stream, header)
  }

  async close(): Promise<void> {
    this.#stream.end()
    await once(this.#stream, 'finish')
  }

  /** Waits when the disk is slower than the import, so memory does not fill with rejects. */
  async write(rejection: Rejection): Promise<void> {
    const fields = [...rejection.raw]
    while (fields.length < this.#width) fields.push('')
    fields[this.#errorIndex] = `line ${rejection.line}: ${rejection.reason}`
    if (!this.#stream.write(stringify([fields]))) await once(this.#stream, 'drain')
  }
}
