import * as z from 'zod/mini'

import {emailContent} from './email-content.js'
import {type AlertMessage, type Delivery, type DeliveryReceipt, DeliveryError, type Notifier, type RateLimits} from './notifier.js'

/**
 * Email over SMTP (nodemailer): one digest per run, STARTTLS when the server offers it
 * (`?requireTLS=true` in the URL to insist), short timeouts so a dead server does not hold
 * up the cron run. 4xx replies and connection trouble are retried; 5xx replies are not.
 */

export const smtpConfig = z.object({
  from: z.email({error: 'must be an email address'}),
  to: z.array(z.email({error: 'must be email addresses'})).check(z.minLength(1, {error: 'needs at least one address'})),
  url: z.string().check(z.regex(/^smtps?:\/\/./, {error: 'must be an smtp:// or smtps:// URL'})),
})

export type SmtpConfig = z.infer<typeof smtpConfig>

interface MailError {
  code?: string
  responseCode?: number
}

export class SmtpNotifier implements Notifier {
  readonly maxPerRequest = 500
  readonly type = 'smtp'

  constructor(
    private readonly config: SmtpConfig,
    readonly limits: RateLimits,
  ) {}

  groupKey(_message: AlertMessage, runId: string): string {
    return runId
  }

  async send(delivery: Delivery, signal: AbortSignal): Promise<DeliveryReceipt> {
    // Loaded here: only runs that send email pay for nodemailer.
    const {createTransport} = await import('nodemailer')
    const options = {connectionTimeout: 10_000, greetingTimeout: 5000, socketTimeout: 15_000, url: this.config.url}
    const transport = createTransport(options as Parameters<typeof createTransport>[0])
    const abort = (): void => transport.close()
    signal.addEventListener('abort', abort, {once: true})
    try {
      const {html, subject, text} = emailContent(delivery)
      const info = await transport.sendMail({from: this.config.from, html, subject, text, to: this.config.to})
      return {response: String(info.response)}
    } catch (error) {
      const {code, responseCode} = error as MailError
      const reason = responseCode ? `SMTP ${responseCode}` : `SMTP ${code ?? 'error'}`
      // Nodemailer's messages can quote the server's greeting but never our URL or password.
      const detail = (error as Error).message?.replace(/^.*?:\/\/[^@\s]*@/, '') ?? ''
      const retryable = responseCode === undefined ? code !== 'EAUTH' && code !== 'EENVELOPE' : responseCode < 500
      throw new DeliveryError(`${reason}: ${detail}`, {response: detail, retryable, status: responseCode})
    } finally {
      signal.removeEventListener('abort', abort)
      transport.close()
    }
  }
}
