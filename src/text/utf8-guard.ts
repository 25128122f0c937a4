import {isUtf8} from 'node:buffer'
import {Transform, type TransformCallback} from 'node:stream'

/**
 * Passes bytes through unchanged and notes the line of the first byte sequence that is not
 * UTF-8. Files saved by Excel as "CSV" are Windows-1252: without this, their accented
 * letters would silently become U+FFFD and be stored that way.
 *
 * A multi-byte character split across two chunks is held back until it is complete, so a
 * chunk boundary never looks like an encoding error.
 */
export class Utf8Guard extends Transform {
  /** Line (1-based) of the first invalid byte, once one has been seen. */
  firstInvalidLine: number | undefined
  #held: Buffer | undefined
  #newlines = 0

  override _flush(callback: TransformCallback): void {
    if (this.#held) {
      this.#check(this.#held)
      this.push(this.#held)
    }

    callback()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const data = this.#held ? Buffer.concat([this.#held, chunk]) : chunk
    const cut = completeLength(data)
    this.#held = cut < data.length ? Buffer.from(data.subarray(cut)) : undefined
    const complete = data.subarray(0, cut)
    this.#check(complete)
    callback(null, complete)
  }

  #check(bytes: Buffer): void {
    if (this.firstInvalidLine !== undefined) return
    if (isUtf8(bytes)) {
      this.#newlines += countNewlines(bytes, bytes.length)
      return
    }

    this.firstInvalidLine = this.#newlines + countNewlines(bytes, firstInvalidOffset(bytes)) + 1
  }
}

/** Length of `bytes` without a trailing, possibly incomplete, multi-byte sequence. */
function completeLength(bytes: Buffer): number {
  const end = bytes.length
  for (let back = 1; back <= Math.min(3, end); back++) {
    const byte = bytes[end - back] as number
    if ((byte & 0xc0) === 0x80) continue // continuation byte: keep looking for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    return needed > back ? end - back : end
  }

  return end
}

function countNewlines(bytes: Buffer, end: number): number {
  let count = 0
  let index = bytes.indexOf(10)
  while (index !== -1 && index < end) {
    count++
    index = bytes.indexOf(10, index + 1)
  }

  return count
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
function firstInvalidOffset(bytes: Buffer): number {
  let index = 0
  while (index < bytes.length) {
    const byte = bytes[index] as number
    const length = byte < 0x80 ? 1 : byte >= 0xc2 && byte < 0xe0 ? 2 : byte >= 0xe0 && byte < 0xf0 ? 3 : byte >= 0xf0 && byte < 0xf5 ? 4 : 0
    if (length === 0) return index
    if (!isUtf8(bytes.subarray(index, index + length))) return index
    index += length
  }

  return bytes.length
}
