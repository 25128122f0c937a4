import {describe, expect, it} from 'vitest'

import {providerMessage} from '../../src/net/provider-message.js'
import {webhookBody} from '../../src/services/webhooks/webhook-delivery.js'
import {urlSecrets} from '../../src/services/webhooks/webhook-sender.js'

describe('what a webhook delivery sends and keeps', () => {
  it('sends the body with its keys in the documented order, whatever order the database kept', () => {
    const stored = {data: {id: 'acme'}, timestamp: '2026-12-02T12:00:00.000Z', type: 'tenant.created'}
    expect(webhookBody(stored)).toBe('{"type":"tenant.created","timestamp":"2026-12-02T12:00:00.000Z","data":{"id":"acme"}}')
  })

  it('keeps no part of a secret URL that a receiver quotes back: its path, a segment, a query value', () => {
    const url = 'https://hooks.example.com/hooks/catch/1234567/3f9a8b7c6d5e4f30/?token=abcdef0123456789'
    const answers = [
      'Cannot POST /hooks/catch/1234567/3f9a8b7c6d5e4f30/',
      'The requested webhook "POST 3f9a8b7c6d5e4f30" is not registered.',
      'bad token abcdef0123456789',
      `no route for ${encodeURIComponent('/hooks/catch/1234567/3f9a8b7c6d5e4f30/')}`,
    ]
    for (const answer of answers) {
      const kept = providerMessage(answer, [url, ...urlSecrets(url)]) ?? ''
      expect(kept).not.toContain('3f9a8b7c6d5e4f30')
      expect(kept).not.toContain('abcdef0123456789')
      expect(kept).toContain('[redacted]')
    }

    // Short, common words of a path are not secrets: an answer keeps its sense.
    expect(providerMessage('Cannot POST to hooks', urlSecrets('https://example.com/hooks/x'))).toBe('Cannot POST to hooks')
  })
})
