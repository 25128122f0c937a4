import {type Answer, HttpFake, type Received} from './http-fake.js'

interface Block {
  accessory?: unknown
  elements?: unknown[]
  text?: {text?: string; type?: string}
  type?: string
}

/**
 * Slack incoming webhooks (api.slack.com/messaging/webhooks): `200 ok`; errors as plain-text
 * bodies with 400 (`invalid_payload`, `invalid_blocks`, `no_text`), 404 (`no_service`) or
 * 429 (`rate_limited`, Retry-After). Block Kit limits: 50 blocks, a header's text 150
 * characters, a section's 3,000.
 */
export class SlackFake extends HttpFake {
  static readonly PATH = '/services/T000/B000/XXXXXXXX'

  /** The messages Slack accepted. */
  get messages(): Array<{blocks: Block[]; text: string}> {
    return this.accepted.map((request) => request.json as {blocks: Block[]; text: string})
  }

  get webhookUrl(): string {
    return `${this.url}${SlackFake.PATH}`
  }

  protected answer(request: Received): Answer {
    if (request.path !== SlackFake.PATH) return {body: 'no_service', status: 404}
    const message = request.json as undefined | {blocks?: Block[]; text?: string}
    if (!message || typeof message !== 'object') return {body: 'invalid_payload', status: 400}
    if (!message.text && !message.blocks) return {body: 'no_text', status: 400}
    const blocks = message.blocks ?? []
    if (blocks.length > 50) return {body: 'invalid_blocks', status: 400}
    for (const block of blocks) {
      const text = block.text?.text ?? ''
      if (block.type === 'header' && ([...text].length > 150 || block.text?.type !== 'plain_text')) return {body: 'invalid_blocks', status: 400}
      if (block.type === 'section' && [...text].length > 3000) return {body: 'invalid_blocks', status: 400}
    }

    return {body: 'ok', headers: {'content-type': 'text/plain'}, status: 200}
  }
}
