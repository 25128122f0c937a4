/**
 * Just enough of the Postgres wire protocol (v3) for the shared embedded server
 * (shared-session.ts): splitting what a client sends into messages, reading where a
 * backend's answer ends, and the few messages the server writes itself.
 * Reference: https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

export const PROTOCOL_V3 = 196_608
export const SSL_REQUEST = 80_877_103
export const GSSENC_REQUEST = 80_877_104
export const CANCEL_REQUEST = 80_877_102

/** A client message bigger than this is refused: no synthex statement or COPY chunk comes close. */
export const MAX_MESSAGE_BYTES = 512 * 1024 * 1024

export type FrontendMessage =
  | {readonly bytes: Buffer; readonly kind: 'startup'}
  | {readonly code: number; readonly kind: 'negotiation'}
  | {readonly bytes: Buffer; readonly kind: 'typed'; readonly type: string}

/**
 * Splits a client's byte stream into messages. The first message of a connection has no
 * type byte (a startup, SSL or cancel request); every later one does.
 */
export class FrontendReader {
  #buffer: Buffer = Buffer.alloc(0)
  #started = false

  /** Appends bytes and returns the messages now complete; throws on a malformed stream. */
  push(chunk: Buffer): FrontendMessage[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    const messages: FrontendMessage[] = []
    for (;;) {
      const message = this.#next()
      if (!message) return messages
      messages.push(message)
    }
  }

  #next(): FrontendMessage | undefined {
    const buffer = this.#buffer
    if (!this.#started) {
      if (buffer.length < 8) return undefined
      const length = buffer.readInt32BE(0)
      if (length < 8 || length > 10_000) throw new Error('malformed startup message')
      if (buffer.length < length) return undefined
      const code = buffer.readInt32BE(4)
      const bytes = buffer.subarray(0, length)
      this.#buffer = buffer.subarray(length)
      if (code === PROTOCOL_V3) {
        this.#started = true
        return {bytes: Buffer.from(bytes), kind: 'startup'}
      }

      return {code, kind: 'negotiation'}
    }

    if (buffer.length < 5) return undefined
    const length = buffer.readInt32BE(1)
    if (length < 4 || length > MAX_MESSAGE_BYTES) throw new Error(`message of ${length} bytes refused`)
    if (buffer.length < 1 + length) return undefined
    // Copied: the rest of the buffer is kept and grows, and a queued message must not move.
    const bytes = Buffer.from(buffer.subarray(0, 1 + length))
    this.#buffer = buffer.subarray(1 + length)
    return {bytes, kind: 'typed', type: String.fromCharCode(bytes[0] as number)}
  }
}

/**
 * Follows a backend's answer as it streams, chunk by chunk, to learn the type of the last
 * complete message and, when it was ReadyForQuery, the transaction status it reported:
 * `I` idle, `T` in a transaction, `E` in a failed transaction.
 */
export class BackendScanner {
  lastType: string | undefined
  status: string | undefined
  #header = Buffer.alloc(0)
  #skip = 0
  #type = ''

  push(chunk: Uint8Array): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, chunk.length - offset)
        // The status byte of ReadyForQuery is the last byte of its body.
        if (this.#type === 'Z' && take === this.#skip) this.status = String.fromCharCode(chunk[offset + take - 1] as number)
        this.#skip -= take
        offset += take
        if (this.#skip === 0) this.lastType = this.#type
        continue
      }

      const need = 5 - this.#header.length
      const part = chunk.subarray(offset, offset + need)
      this.#header = Buffer.concat([this.#header, part])
      offset += part.length
      if (this.#header.length < 5) return
      this.#type = String.fromCharCode(this.#header[0] as number)
      this.#skip = this.#header.readInt32BE(1) - 4
      this.#header = Buffer.alloc(0)
      if (this.#skip === 0) this.lastType = this.#type
    }
  }

  /** Whether the answer ended with the session idle (no transaction left open). */
  get idle(): boolean {
    return this.lastType === 'Z' && this.status === 'I'
  }
}

function typed(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5)
  header.write(type, 0, 'latin1')
  header.writeInt32BE(4 + body.length, 1)
  return Buffer.concat([header, body])
}

function cstring(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0])])
}

export function queryMessage(sql: string): Buffer {
  return typed('Q', cstring(sql))
}

export function syncMessage(): Buffer {
  return typed('S', Buffer.alloc(0))
}

/** ErrorResponse with severity, SQLSTATE and message, as a client library reports it. */
export function errorResponse(severity: 'ERROR' | 'FATAL', code: string, message: string): Buffer {
  return typed('E', Buffer.concat([Buffer.from('S'), cstring(severity), Buffer.from('V'), cstring(severity), Buffer.from('C'), cstring(code), Buffer.from('M'), cstring(message), Buffer.from([0])]))
}

export function readyForQuery(status: 'E' | 'I' | 'T'): Buffer {
  return typed('Z', Buffer.from(status, 'latin1'))
}

/** CopyInResponse in text format; client libraries only wait for it before sending rows. */
export function copyInResponse(): Buffer {
  return typed('G', Buffer.from([0, 0, 0]))
}

/** The SQL text of a Query ('Q') or Parse ('P') message. */
export function statementText(message: Buffer): string {
  const type = String.fromCharCode(message[0] as number)
  if (type === 'Q') return message.toString('utf8', 5, message.length - 1)
  // Parse: statement name (cstring), then the query (cstring).
  const nameEnd = message.indexOf(0, 5)
  const queryEnd = message.indexOf(0, nameEnd + 1)
  return message.toString('utf8', nameEnd + 1, queryEnd)
}
