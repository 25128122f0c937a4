import {simpleParser} from 'mailparser'
import {SMTPServer} from 'smtp-server'

export interface ReceivedMail {
  readonly from: string
  readonly html: string
  readonly subject: string
  readonly text: string
  readonly to: string[]
}

/** A real SMTP server (smtp-server) on 127.0.0.1 that keeps what it is sent. */
export class SmtpFake {
  readonly mails: ReceivedMail[] = []
  #server: SMTPServer | undefined
  #port = 0

  get url(): string {
    return `smtp://synthex:smtp-password@127.0.0.1:${this.#port}`
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()))
  }

  async listen(): Promise<this> {
    this.#server = new SMTPServer({
      authOptional: false,
      // Plain connections only: a self-signed STARTTLS certificate would be refused, rightly.
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth: (auth, _session, callback) => {
        if (auth.username === 'synthex' && auth.password === 'smtp-password') callback(null, {user: 'synthex'})
        else callback(new Error('Invalid username or password'))
      },
      onData: (stream, _session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            const to = [parsed.to].flat().flatMap((address) => address?.value.map((item) => item.address ?? '') ?? [])
            this.mails.push({from: parsed.from?.value[0]?.address ?? '', html: String(parsed.html || ''), subject: parsed.subject ?? '', text: parsed.text ?? '', to})
            callback()
          })
          .catch((error: Error) => callback(error))
      },
    })
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve))
    this.#port = (this.#server as unknown as {server: {address(): {port: number}}}).server.address().port
    return this
  }
}
