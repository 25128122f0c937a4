import {simpleParser} from 'mailparser'
import {SMTPServer} from 'smtp-server'

export interface ReceivedMail {
  readonly from: string
  readonly html: string
  /** It came over TLS (STARTTLS or smtps). */
  readonly secure: boolean
  readonly subject: string
  readonly text: string
  readonly to: string[]
}

export interface SmtpFakeOptions {
  /** The account's password (default smtp-password). */
  readonly password?: string
  /**
   * A certificate and key: offer STARTTLS with them, or with `implicit`, speak TLS from the
   * first byte (smtps). Without: plain SMTP only, STARTTLS not offered.
   */
  readonly tls?: {readonly cert: string; readonly implicit?: boolean; readonly key: string}
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 that keeps what it is sent, including every
 * AUTH it gets, so a test can tell whether a password crossed the wire and how. It accepts
 * AUTH in clear too (allowInsecureAuth): a client that sends it there is seen doing so.
 */
export class SmtpFake {
  /** Every AUTH received, whether the credentials were right or not. */
  readonly logins: Array<{password: string; secure: boolean; username: string}> = []
  readonly mails: ReceivedMail[] = []
  readonly #password: string
  #port = 0
  #server: SMTPServer | undefined

  constructor(private readonly options: SmtpFakeOptions = {}) {
    this.#password = options.password ?? 'smtp-password'
  }

  /** The URL with the password percent-encoded, as a URL must hold it. */
  get url(): string {
    return `${this.options.tls?.implicit ? 'smtps' : 'smtp'}://synthex:${encodeURIComponent(this.#password)}@127.0.0.1:${this.#port}`
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()))
  }

  async listen(): Promise<this> {
    const {tls} = this.options
    this.#server = new SMTPServer({
      allowInsecureAuth: true,
      authOptional: false,
      ...(tls ? {cert: tls.cert, key: tls.key, secure: tls.implicit === true} : {disabledCommands: ['STARTTLS']}),
      logger: false,
      onAuth: (auth, session, callback) => {
        this.logins.push({password: String(auth.password), secure: session.secure, username: auth.username ?? ''})
        if (auth.username === 'synthex' && auth.password === this.#password) callback(null, {user: 'synthex'})
        else callback(new Error('Invalid username or password'))
      },
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            const to = [parsed.to].flat().flatMap((address) => address?.value.map((item) => item.address ?? '') ?? [])
            this.mails.push({from: parsed.from?.value[0]?.address ?? '', html: String(parsed.html || ''), secure: session.secure, subject: parsed.subject ?? '', text: parsed.text ?? '', to})
            callback()
          })
          .catch((error: Error) => callback(error))
      },
    })
    this.#server.on('error', () => {})
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve))
    this.#port = (this.#server as unknown as {server: {address(): {port: number}}}).server.address().port
    return this
  }
}
