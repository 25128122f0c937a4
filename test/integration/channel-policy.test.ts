import {randomBytes, randomUUID} from 'node:crypto'

import {sql} from 'kysely'
import {beforeEach, expect, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import {addChannel, type ChannelInput, listChannels, resolveChannels} from '../../src/services/alerts/channels.js'
import {InvalidInputError} from '../../src/errors/input-errors.js'
import {describeEachBackend} from '../helpers/backends.js'
import {columnsContaining} from '../helpers/inspect-database.js'
import {channelEnvironment} from '../../src/config/environment.js'

const audit = {actor: 'oncall', source: 'cli'}
const keyring = new Keyring({id: 'k', key: randomBytes(32)})

/**
 * The outbound address policy when a channel is added or read from the environment: URLs
 * inside the network, in clear, or with user:password@ are refused by field, the value never
 * quoted, nothing stored; the opt-outs are stored and shown with the channel's settings.
 */
describeEachBackend('channel URLs and the network policy', (database) => {
  const canary = `canary-${randomUUID()}`

  const refusal = async (input: ChannelInput): Promise<InvalidInputError> => {
    const error = await addChannel(database().db, keyring, audit, input).then(
      () => undefined,
      (error: unknown) => error,
    )
    if (!(error instanceof InvalidInputError)) throw new Error(`expected the channel to be refused, got ${String(error)}`)
    return error
  }

  beforeEach(async () => {
    await sql`truncate channels cascade`.execute(database().db)
  })

  it('refuses metadata, loopback, unspecified and private addresses however they are spelt, plain http, and user:password@', async () => {
    const slack = (url: string): ChannelInput => ({name: 'refused', options: {}, secret: url, type: 'slack'})
    const webhook = (url: string): ChannelInput => ({name: 'refused', options: {}, secret: url, secretOptions: {signingSecret: 's'.repeat(20)}, type: 'webhook'})
    const cases: Array<[ChannelInput, string]> = [
      [slack(`https://169.254.169.254/services/T/B/${canary}`), 'url: points to a link-local/metadata address, inside the network'],
      [slack(`https://[::ffff:169.254.169.254]/services/T/B/${canary}`), 'url: points to a link-local/metadata address, inside the network'],
      [slack(`https://0xa9.0xfe.0xa9.0xfe/services/T/B/${canary}`), 'url: points to a link-local/metadata address, inside the network'],
      [slack(`https://[fd00:ec2::254]/services/T/B/${canary}`), 'url: points to a private/metadata address, inside the network'],
      [webhook(`https://localhost:6379/${canary}`), 'url: its host resolves to'],
      [webhook(`https://127.1:6379/${canary}`), 'url: points to a loopback address, inside the network'],
      [webhook(`https://0.0.0.0:5432/${canary}`), 'url: points to an unspecified address, inside the network'],
      [webhook(`https://10.0.0.8/${canary}`), 'url: points to a private address, inside the network'],
      [slack(`http://hooks.slack.com/services/T/B/${canary}`), 'url: must be an https:// URL: plain http:// would send it unencrypted'],
      [slack(`https://ops:${canary}@hooks.slack.com/services/T/B/X`), 'url: must not hold a user name or password (user:password@)'],
      [webhook(`https://${canary}@hooks.example.com/x`), 'url: must not hold a user name or password (user:password@)'],
      [{name: 'refused', options: {eventsUrl: `https://u:${canary}@events.example.com/v2/enqueue`}, secret: 'R'.repeat(32), type: 'pagerduty'}, 'eventsUrl: must not hold a user name or password'],
      [{name: 'refused', options: {apiUrl: 'https://192.168.1.10', from: 'a@example.com', to: ['b@example.com']}, secret: 'SG.0123456789', type: 'sendgrid'}, 'apiUrl: points to a private address'],
      [{name: 'refused', options: {from: 'a@example.com', to: ['b@example.com']}, secret: `smtp://u:${canary}@169.254.169.254:25`, type: 'smtp'}, 'url: points to a link-local/metadata address'],
      [{name: 'refused', options: {from: 'a@example.com', to: ['b@example.com']}, secret: `smtp://u:${canary}@[::ffff:169.254.169.254]:25`, type: 'smtp'}, 'url: points to a link-local/metadata address'],
      // smtp: is not a "special" scheme: the URL parser leaves 2852039166 as a name, and the resolver reads it as an address.
      [{name: 'refused', options: {from: 'a@example.com', to: ['b@example.com']}, secret: `smtp://u:${canary}@2852039166:25`, type: 'smtp'}, 'url: its host resolves to 169.254.169.254, a link-local/metadata address, inside the network'],
      [{name: 'refused', options: {allowHttp: true, from: 'a@example.com', to: ['b@example.com']}, secret: 'smtp://mail.example.com', type: 'smtp'}, 'allowHttp: does not apply to smtp: add ?tls=none to the SMTP URL to send in clear'],
    ]
    for (const [input, message] of cases) {
      const error = await refusal(input)
      expect(error.message, String(input.secret)).toContain(message)
      expect(error.message + (error.hint ?? '')).not.toContain(canary)
    }

    const inside = await refusal(webhook(`https://localhost:6379/${canary}`))
    expect(inside.message).toMatch(/^Invalid input: url: its host resolves to (127\.0\.0\.1|::1), a loopback address, inside the network\.$/)
    expect(inside.hint).toBe('If that is intended: --allow-private-network allows addresses inside the network (loopback, private, link-local).')
    expect((await refusal(slack(`http://hooks.slack.com/services/T/B/${canary}`))).hint).toBe('If that is intended: --allow-http allows plain http://.')
    expect(await listChannels(database().db, channelEnvironment({}))).toMatchObject([{name: 'console'}])
    expect(await columnsContaining(database().db, canary)).toEqual([])
  })

  it('takes what is explicitly allowed, storing and showing the opt-outs', async () => {
    const view = await addChannel(database().db, keyring, audit, {name: 'inside', options: {allowHttp: true, allowPrivateNetwork: true}, secret: `http://localhost:9/services/T/B/${canary}`, type: 'slack'})
    expect(view.settings).toEqual({allowHttp: true, allowPrivateNetwork: true})
    const [spec] = await resolveChannels(database().db, keyring, channelEnvironment({}))
    expect(spec?.config).toMatchObject({allowHttp: true, allowPrivateNetwork: true, url: `http://localhost:9/services/T/B/${canary}`})
  })

  it('refuses an environment channel by its variable, naming the setting that would allow it', async () => {
    const resolving = async (env: Record<string, string>): Promise<InvalidInputError | undefined> =>
      resolveChannels(database().db, keyring, channelEnvironment(env)).then(
        () => undefined,
        (error: unknown) => error as InvalidInputError,
      )
    const url = `http://127.0.0.1:9/services/T/B/${canary}`
    const inClear = await resolving({SLACK_WEBHOOK_URL: url})
    expect(inClear).toMatchObject({hint: 'If that is intended: SYNTHEX_ALLOW_HTTP=1 allows plain http://.', message: 'Invalid input: env-slack.url: must be an https:// URL: plain http:// would send it unencrypted.'})
    const inside = await resolving({SLACK_WEBHOOK_URL: url, SYNTHEX_ALLOW_HTTP: '1'})
    expect(inside).toMatchObject({
      hint: 'If that is intended: SYNTHEX_ALLOW_PRIVATE_NETWORK=1 allows addresses inside the network (loopback, private, link-local).',
      message: 'Invalid input: env-slack.url: points to a loopback address, inside the network.',
    })
    expect(await resolving({SLACK_WEBHOOK_URL: url, SYNTHEX_ALLOW_HTTP: '1', SYNTHEX_ALLOW_PRIVATE_NETWORK: '1'})).toBeUndefined()
    expect(await listChannels(database().db, channelEnvironment({SLACK_WEBHOOK_URL: url, SYNTHEX_ALLOW_HTTP: 'yes', SYNTHEX_ALLOW_PRIVATE_NETWORK: 'true'}))).toMatchObject([
      {name: 'env-slack', settings: {allowHttp: true, allowPrivateNetwork: true}, source: 'environment'},
    ])
  })
})
