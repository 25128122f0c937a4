import {describe, expect, it} from 'vitest'

import {BackendScanner, errorResponse, FrontendReader, queryMessage, readyForQuery, statementText, syncMessage} from '../../src/db/wire-protocol.js'

function startup(): Buffer {
  const body = Buffer.from('user\0postgres\0database\0postgres\0\0')
  const head = Buffer.alloc(8)
  head.writeInt32BE(8 + body.length, 0)
  head.writeInt32BE(196_608, 4)
  return Buffer.concat([head, body])
}

describe('the shared embedded server reads the wire protocol', () => {
  it('splits a client stream into messages whatever the chunking: one byte at a time or all at once', () => {
    const stream = Buffer.concat([startup(), queryMessage('select 1'), queryMessage('select ’ünïcode’'), syncMessage()])
    const whole = new FrontendReader().push(stream)
    const reader = new FrontendReader()
    const byByte = [...stream].flatMap((byte) => reader.push(Buffer.from([byte])))
    for (const messages of [whole, byByte]) {
      expect(messages.map((message) => (message.kind === 'typed' ? message.type : message.kind))).toEqual(['startup', 'Q', 'Q', 'S'])
      expect(messages[2]?.kind === 'typed' && statementText(messages[2].bytes)).toBe('select ’ünïcode’')
    }
  })

  it('answers an SSL request before startup as a negotiation, and refuses a message claiming a gigabyte', () => {
    const ssl = Buffer.alloc(8)
    ssl.writeInt32BE(8, 0)
    ssl.writeInt32BE(80_877_103, 4)
    expect(new FrontendReader().push(ssl)).toEqual([{code: 80_877_103, kind: 'negotiation'}])
    const reader = new FrontendReader()
    reader.push(startup())
    const huge = Buffer.from([0x51, 0x40, 0, 0, 0])
    expect(() => reader.push(huge)).toThrow(/refused/)
  })

  it('follows a backend answer split anywhere to its last ReadyForQuery and the transaction state it reports', () => {
    const answer = Buffer.concat([errorResponse('ERROR', '42P01', 'no such table'), readyForQuery('E')])
    for (let cut = 0; cut <= answer.length; cut++) {
      const scanner = new BackendScanner()
      scanner.push(answer.subarray(0, cut))
      scanner.push(answer.subarray(cut))
      expect([scanner.lastType, scanner.status, scanner.idle]).toEqual(['Z', 'E', false])
    }

    const idle = new BackendScanner()
    idle.push(readyForQuery('I'))
    expect(idle.idle).toBe(true)
    const unfinished = new BackendScanner()
    unfinished.push(Buffer.concat([readyForQuery('I'), errorResponse('ERROR', 'XX000', 'x')]))
    expect(unfinished.idle).toBe(false)
  })
})
