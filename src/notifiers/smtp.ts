import * as z from 'zod/mini'

import {guardedConnect} from '../net/guarded-connect.js'
import {OutboundError} from '../net/outbound-error.js'
import {scrubUrls} from '../net/scrub.js'
import {emailContent} from './email-content.js'
import {excerpt} from './http.js'
import {policyOf} from './network-options.js'
import {ConfiguredNotifier, type Delivery, DeliveryError, type DeliveryReceipt, type RateLimits} from './notifier.js'
import {parseSmtpUrl, type SmtpEndpoint} from './smtp-url.js'

/**
 * Email over SMTP (nodemailer): one digest per run. TLS is required: STARTTLS on smtp://
 * (a server that does not offer it gets neither the password nor the mail), TLS from the
 * start on smtps://; `?tls=none` in the URL sends in clear, for a relay that cannot do
 * better. The server's address is checked like a provider URL's (src/net/address-policy.ts).
 * Short timeouts, so a dead server does not hold up the cron run. 4xx replies and connection
 * trouble are retried; 5xx replies are not.
 */

export const smtpConfig = z.object({
  allowPrivateNetwork: z.optional(z.boolean()),
  from: z.email({error: 'must be an email address'}),
  to: z.array(z.email({error: 'must be email addresses'})).check(z.minLength(1, {error: 'needs at least one address'})),
  url: z.string().check(
    z.refine((value) => !('problem' in parseSmtpUrl(value)), {
      error: (issue) => {
        const parsed = parseSmtpUrl(String(issue.input))
        return 'problem' in parsed ? parsed.problem : 'must be an smtp:// or smtps:// URL'
      },
    }),
  ),
})

export type SmtpConfig = z.infer<typeof smtpConfig>

interface MailError {
  code?: string
  command?: string
  responseCode?: number
}

const CONNECT_TIMEOUT_MS = 10_000

export class SmtpNotifier extends ConfiguredNotifier<SmtpConfig> {
  readonly maxPerRequest = 500
  readonly type = 'smtp'
  readonly #endpoint: SmtpEndpoint

  constructor(config: SmtpConfig, limits: RateLimits) {
    super(config, limits)
    const endpoint = parseSmtpUrl(config.url)
    if ('problem' in endpoint) throw new DeliveryError(`SMTP URL ${endpoint.problem}`, {retryable: false})
    this.#endpoint = endpoint
  }

  async send(delivery: Delivery, signal: AbortSignal): Promise<DeliveryReceipt> {
    // Loaded here: only runs that send email pay for nodemailer.
    const {createTransport} = await import('nodemailer')
    const endpoint = this.#endpoint
    const policy = {allowHttp: false, allowPrivateNetwork: policyOf(this.config).allowPrivateNetwork}
    const transport = createTransport({
      auth: endpoint.user === undefined ? undefined : {pass: endpoint.password ?? '', user: endpoint.user},
      connectionTimeout: CONNECT_TIMEOUT_MS,
      // The connection nodemailer talks over is opened here, to the address the policy allows.
      getSocket: (_options: unknown, callback: (error: Error | null, socket?: {connection: unknown}) => void) => {
        guardedConnect(endpoint.host, endpoint.port, {policy, signal, timeoutMs: CONNECT_TIMEOUT_MS}).then(
          (connection) => callback(null, {connection}),
          (error: Error) => callback(error),
        )
      },
      greetingTimeout: 5000,
      host: endpoint.host,
      ignoreTLS: endpoint.tls === 'none',
      logger: false,
      port: endpoint.port,
      requireTLS: !endpoint.secure && endpoint.tls === 'required',
      secure: endpoint.secure,
      socketTimeout: 15_000,
    } as Parameters<typeof createTransport>[0])
    const abort = (): void => transport.close()
    signal.addEventListener('abort', abort, {once: true})
    try {
      const {html, subject, text} = emailContent(delivery)
      const info = await transport.sendMail({from: this.config.from, html, subject, text, to: this.config.to})
      return {response: excerpt(scrubUrls(String(info.response)))}
    } catch (error) {
      throw smtpFailure(error)
    } finally {
      signal.removeEventListener('abort', abort)
      transport.close()
    }
  }
}

function smtpFailure(error: unknown): DeliveryError {
  if (error instanceof OutboundError) return new DeliveryError(error.message, {retryable: error.retryable})
  const {code, command, responseCode} = error as MailError
  if (code === 'ETLS' && command === 'STARTTLS' && responseCode !== undefined) {
    return new DeliveryError(
      `SMTP ${responseCode}: the server does not offer STARTTLS, so nothing was sent (neither the password nor the mail); use smtps://, or add ?tls=none to the URL to send in clear`,
      {retryable: false, status: responseCode},
    )
  }

  const reason = responseCode ? `SMTP ${responseCode}` : `SMTP ${typeof code === 'string' && /^\w{1,40}$/.test(code) ? code : 'error'}`
  // Nodemailer's messages quote the server's replies, never (since it is not given one) a URL;
  // scrubbed all the same, in case a reply or a Node error quotes one.
  const detail = excerpt(scrubUrls((error as Error).message ?? ''))
  const retryable = responseCode === undefined ? code !== 'EAUTH' && code !== 'EENVELOPE' : responseCode < 500
  return new DeliveryError(`${reason}: ${detail}`, {response: detail, retryable, status: responseCode})
}
