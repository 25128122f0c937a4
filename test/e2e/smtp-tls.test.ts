import {randomBytes} from 'node:crypto'

import {afterEach, beforeAll, describe, expect, inject, it} from 'vitest'

import {selfSignedCertificate} from '../fakes/self-signed.js'
import {SmtpFake} from '../fakes/smtp-fake.js'
import {makeHome, parseJson, runCli} from '../helpers/cli.js'

const KEY = randomBytes(32).toString('base64')

/**
 * SMTP and TLS, against the real smtp-server fake and the built CLI: the password goes only
 * over TLS unless the URL says `?tls=none`, and an SMTP URL, however its password is spelt,
 * never reaches stderr (Node's DEP0170 warning used to quote it).
 */
describe('SMTP channels and TLS', () => {
  let home: string
  let tls: {cert: string; certPath: string; key: string}
  const fakes: SmtpFake[] = []
  const mail = {SYNTHEX_EMAIL_FROM: 'alerts@example.com', SYNTHEX_EMAIL_TO: 'ops@example.com'}
  const run = (args: string[], env: Record<string, string | undefined>, input?: string) =>
    runCli(args, {env: {SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_HOME: home, ...env}, input})
  const fake = async (options: ConstructorParameters<typeof SmtpFake>[0] = {}): Promise<SmtpFake> => {
    const started = await new SmtpFake(options).listen()
    fakes.push(started)
    return started
  }

  beforeAll(async () => {
    home = await makeHome()
    tls = selfSignedCertificate(inject('scratch'))
  })

  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((started) => started.close()))
  })

  it('sends neither the password nor the mail to a server that offers no STARTTLS', async () => {
    const plain = await fake()
    const tested = await run(['alerts', 'channels', 'test', 'env-smtp', '--json'], {...mail, SMTP_URL: plain.url})
    expect(tested.code).toBe(1)
    const {error} = parseJson<{error: {code: string; message: string}}>(tested)
    expect(error.code).toBe('DELIVERY_FAILED')
    expect(error.message).toMatch(/^env-smtp \(smtp\) refused the test notification: SMTP 5\d\d: the server does not offer STARTTLS, so nothing was sent \(neither the password nor the mail\); use smtps:\/\/, or add \?tls=none to the URL to send in clear$/)
    expect(plain.logins).toEqual([])
    expect(plain.mails).toEqual([])
    expect(tested.stdout + tested.stderr).not.toContain('smtp-password')
  })

  it('sends over STARTTLS to a server that offers it, with a certificate it trusts', async () => {
    const secure = await fake({tls})
    const trusted = await run(['alerts', 'channels', 'test', 'env-smtp'], {...mail, NODE_EXTRA_CA_CERTS: tls.certPath, SMTP_URL: secure.url})
    expect(trusted.code, trusted.stderr).toBe(0)
    expect(secure.logins).toEqual([{password: 'smtp-password', secure: true, username: 'synthex'}])
    expect(secure.mails).toMatchObject([{secure: true, to: ['ops@example.com']}])

    // A certificate nobody vouches for: the TLS handshake fails, and the password stays home.
    const untrusted = await run(['alerts', 'channels', 'test', 'env-smtp'], {...mail, SMTP_URL: secure.url})
    expect(untrusted.code).toBe(1)
    expect(untrusted.stderr).toContain('self-signed certificate')
    expect(secure.logins).toHaveLength(1)
  })

  it('speaks TLS from the first byte on smtps://', async () => {
    const implicit = await fake({tls: {...tls, implicit: true}})
    expect(implicit.url).toMatch(/^smtps:/)
    const sent = await run(['alerts', 'channels', 'test', 'env-smtp'], {...mail, NODE_EXTRA_CA_CERTS: tls.certPath, SMTP_URL: implicit.url})
    expect(sent.code, sent.stderr).toBe(0)
    expect(implicit.logins).toMatchObject([{secure: true}])
    expect(implicit.mails).toHaveLength(1)
  })

  it('sends in clear only when the URL says ?tls=none', async () => {
    const plain = await fake()
    const sent = await run(['alerts', 'channels', 'test', 'env-smtp'], {...mail, SMTP_URL: `${plain.url}?tls=none`})
    expect(sent.code, sent.stderr).toBe(0)
    expect(plain.logins).toEqual([{password: 'smtp-password', secure: false, username: 'synthex'}])
    expect(plain.mails).toMatchObject([{secure: false}])
  })

  it('takes a password holding #, / and ? percent-encoded, and refuses it raw without echoing or a Node warning', async () => {
    const password = `p#ss/w?rd-${randomBytes(6).toString('hex')}`
    const plain = await fake({password})
    expect(plain.url).not.toContain(password)
    const added = await run(['alerts', 'channels', 'add', 'mail', '--type', 'smtp', '--value-stdin', '--from', 'alerts@example.com', '--to', 'ops@example.com', '--allow-private-network'], {}, `${plain.url}?tls=none`)
    expect(added.code, added.stderr).toBe(0)
    const tested = await run(['alerts', 'channels', 'test', 'mail'], {})
    expect(tested.code, tested.stderr).toBe(0)
    expect(plain.logins).toEqual([{password, secure: false, username: 'synthex'}])

    const raw = `smtp://synthex:${password}@127.0.0.1:25?tls=none`
    const refused = await run(['alerts', 'channels', 'add', 'raw-mail', '--type', 'smtp', '--value-stdin', '--from', 'alerts@example.com', '--to', 'ops@example.com', '--json'], {}, raw)
    expect(refused.code).toBe(2)
    expect(parseJson<{error: {message: string}}>(refused).error.message).toContain('url: is not a valid SMTP URL; percent-encode special characters of the user name and password')
    const fromEnvironment = await run(['alerts', 'channels', 'test', 'env-smtp'], {...mail, SMTP_URL: raw})
    expect(fromEnvironment.code).toBe(2)
    expect(fromEnvironment.stderr).toContain('env-smtp.url: is not a valid SMTP URL')
    for (const result of [added, tested, refused, fromEnvironment]) {
      const printed = result.stdout + result.stderr
      expect(printed).not.toContain(password.slice(0, 5))
      expect(printed).not.toContain(password.slice(-12))
      expect(printed).not.toMatch(/DEP0170|DeprecationWarning/)
    }

    expect((await run(['alerts', 'channels', 'remove', 'mail', '--yes'], {})).code).toBe(0)
  })
})
