import * as z from 'zod/mini'

import {emailContent} from './email-content.js'
import {excerpt, post} from './http.js'
import {networkOptions, policyOf} from './network-options.js'
import {ConfiguredNotifier, type Delivery, DeliveryError, type DeliveryReceipt} from './notifier.js'

/** SendGrid v3 mail send: one digest email per run. 202 is success; errors carry `errors[]`. */

export const DEFAULT_SENDGRID_URL = 'https://api.sendgrid.com'

export const sendgridConfig = z.object({
  ...networkOptions,
  apiKey: z.string().check(z.minLength(10, {error: 'must be a SendGrid API key'})),
  apiUrl: z._default(z.url({protocol: /^https?$/}), DEFAULT_SENDGRID_URL),
  from: z.email({error: 'must be an email address'}),
  to: z.array(z.email({error: 'must be email addresses'})).check(z.minLength(1, {error: 'needs at least one address'})),
})

export type SendGridConfig = z.infer<typeof sendgridConfig>

export class SendGridNotifier extends ConfiguredNotifier<SendGridConfig> {
  readonly maxPerRequest = 500
  readonly type = 'sendgrid'

  async send(delivery: Delivery, signal: AbortSignal): Promise<DeliveryReceipt> {
    const {html, subject, text} = emailContent(delivery)
    const body = {
      content: [
        {type: 'text/plain', value: text},
        {type: 'text/html', value: html},
      ],
      from: {email: this.config.from},
      personalizations: [{to: this.config.to.map((email) => ({email}))}],
      subject,
    }
    try {
      const answer = await post(`${this.config.apiUrl.replace(/\/+$/, '')}/v3/mail/send`, JSON.stringify(body), {
        headers: {authorization: `Bearer ${this.config.apiKey}`},
        policy: policyOf(this.config),
        signal,
      })
      // The message id is the provider's to choose: only a plain token is kept.
      const id = answer.headers['x-message-id']
      return {response: `${answer.status} accepted${id && /^[\w.=+-]{1,100}$/.test(id) ? ` (${id})` : ''}`}
    } catch (error) {
      throw withSendGridErrors(error)
    }
  }
}

/** SendGrid explains a refusal in `errors[].message`; say that rather than the raw JSON. */
function withSendGridErrors(error: unknown): unknown {
  if (!(error instanceof DeliveryError) || !error.response) return error
  try {
    const errors = (JSON.parse(error.response) as {errors?: unknown}).errors
    const messages = (Array.isArray(errors) ? errors : [])
      .map((item: {field?: unknown; message?: unknown}) => (typeof item?.message !== 'string' ? '' : typeof item.field === 'string' ? `${item.field}: ${item.message}` : item.message))
      .filter(Boolean)
    if (messages.length === 0) return error
    // What post() said of an unusual Retry-After stays said.
    const note = / \(Retry-After [^()]*\)$/.exec(error.message)?.[0] ?? ''
    return new DeliveryError(`HTTP ${error.status}: ${excerpt(messages.join('; '))}${note}`, {
      response: error.response,
      retryable: error.retryable,
      retryAfterMs: error.retryAfterMs,
      status: error.status,
    })
  } catch {
    return error
  }
}
