import {Webhook} from 'standardwebhooks'

import {verifyLegacySignature} from '../../src/services/webhooks/webhook-signature.js'
import {type Answer, HttpFake, type Received} from './http-fake.js'

/**
 * A webhook receiver written against the Standard Webhooks specification
 * (standardwebhooks.com): it verifies `webhook-signature` with the reference `standardwebhooks`
 * package (which also checks that `webhook-timestamp` is within five minutes of its clock)
 * and `X-Webhook-Signature: sha256=` as receivers of the older scheme do, answers `204` to a
 * delivery that verifies and `401` to one that does not. Until `secret` is set it accepts
 * every POST with a JSON body. It can be told to fail, to be slow, or (`hold`) to keep
 * requests waiting until released.
 */
export class WebhookReceiverFake extends HttpFake {
  /** The signing secret it verifies with (`whsec_...`). */
  secret: string | undefined
  #held: Array<() => void> | undefined

  /** The webhook-id of every delivery it accepted, in order. */
  get acceptedIds(): string[] {
    return this.accepted.map((request) => String(request.headers['webhook-id']))
  }

  /** From now on, requests wait (unanswered) until release(). */
  hold(): void {
    this.#held ??= []
  }

  /** Answers the requests held, and no longer holds new ones. */
  release(): void {
    const held = this.#held ?? []
    this.#held = undefined
    for (const resume of held) resume()
  }

  /** Requests waiting for release(). */
  get waiting(): number {
    return this.#held?.length ?? 0
  }

  /** Whether a request's signatures verify with `secret`: Standard Webhooks (the package) and sha256= (only meaningful for the newest secret). */
  static verifies(request: Received, secret: string): {legacy: boolean; standard: boolean} {
    let standard: boolean
    try {
      new Webhook(secret).verify(request.body, request.headers as Record<string, string>)
      standard = true
    } catch {
      standard = false
    }

    return {legacy: verifyLegacySignature(request.body, String(request.headers['x-webhook-signature'] ?? ''), secret), standard}
  }

  protected override async wait(_request: Received): Promise<void> {
    if (this.#held) await new Promise<void>((resolve) => this.#held?.push(resolve))
  }

  protected answer(request: Received): Answer {
    if (request.method !== 'POST' || request.json === undefined || request.headers['content-type'] !== 'application/json') return {body: 'expected a JSON POST', status: 400}
    if (this.secret !== undefined) {
      const {legacy, standard} = WebhookReceiverFake.verifies(request, this.secret)
      if (!standard || !legacy) return {body: `signature mismatch (standard ${standard}, sha256 ${legacy})`, status: 401}
    }

    return {status: 204}
  }
}
