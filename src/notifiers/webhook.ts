import {createHmac} from 'node:crypto'

import * as z from 'zod/mini'

import {headline} from './format.js'
import {post} from './http.js'
import {networkOptions, policyOf} from './network-options.js'
import {ConfiguredNotifier, type Delivery, type DeliveryReceipt} from './notifier.js'

/**
 * A generic JSON webhook (Zapier, Make, n8n, your own service): a digest per run, signed
 * with HMAC-SHA256 of the exact body in `X-Synthex-Signature: sha256=<hex>`, so the receiver
 * can check it came from synthex.
 */

export const webhookConfig = z.object({
  ...networkOptions,
  signingSecret: z.string().check(z.minLength(16, {error: 'must be at least 16 characters'})),
  url: z.url({error: 'must be an http(s) URL', protocol: /^https?$/}),
})

export type WebhookConfig = z.infer<typeof webhookConfig>

export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`
}

/**
 * The JSON body: every value as it is (the receiver escapes for wherever it shows them);
 * JSON.stringify escapes control characters and lone surrogates, so the body is valid
 * JSON that parses back to the same strings.
 */
export function webhookBody(delivery: Delivery): string {
  return JSON.stringify({
    alerts: delivery.messages.map((message) => ({...message, headline: headline(message)})),
    run: delivery.runId,
    source: 'synthex',
  })
}

export class WebhookNotifier extends ConfiguredNotifier<WebhookConfig> {
  readonly maxPerRequest = 100
  readonly type = 'webhook'

  async send(delivery: Delivery, signal: AbortSignal): Promise<DeliveryReceipt> {
    const body = webhookBody(delivery)
    const answer = await post(this.config.url, body, {headers: {'x-synthex-signature': webhookSignature(this.config.signingSecret, body)}, policy: policyOf(this.config), signal})
    return {response: `${answer.status}`}
  }
}
