import {describe, expect, it} from 'vitest'

import {printWarningsScrubbed} from '../../src/cli/node-warnings.js'
import {networkSettings} from '../../src/config/settings.js'
import {addressRange, STRICT_POLICY} from '../../src/net/address-policy.js'
import {outboundUrlProblem} from '../../src/net/outbound-url.js'
import {parseRetryAfter} from '../../src/net/retry-after.js'
import {scrubUrls} from '../../src/net/scrub.js'
import {checkChannelConfig} from '../../src/notifiers/registry.js'
import {parseSmtpUrl} from '../../src/notifiers/smtp-url.js'

const HOUR = 3_600_000

describe('the address policy', () => {
  it('names the range of every address inside the network, however it is spelt', () => {
    expect(addressRange('169.254.169.254')).toBe('link-local/metadata')
    expect(addressRange('::ffff:169.254.169.254')).toBe('link-local/metadata')
    expect(addressRange('::ffff:a9fe:a9fe')).toBe('link-local/metadata')
    expect(addressRange('[::ffff:a9fe:a9fe]')).toBe('link-local/metadata')
    expect(addressRange('64:ff9b::a9fe:a9fe')).toBe('link-local/metadata')
    expect(addressRange('2002:a9fe:a9fe::1')).toBe('link-local/metadata')
    expect(addressRange('fd00:ec2::254')).toBe('private/metadata')
    expect(addressRange('127.0.0.1')).toBe('loopback')
    expect(addressRange('127.255.0.9')).toBe('loopback')
    expect(addressRange('::1')).toBe('loopback')
    expect(addressRange('::ffff:127.0.0.1')).toBe('loopback')
    expect(addressRange('0.0.0.0')).toBe('unspecified')
    expect(addressRange('::')).toBe('unspecified')
    for (const address of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '100.127.255.254', 'fc00::1', 'fd12:3456::1']) {
      expect(addressRange(address), address).toBe('private')
    }

    expect(addressRange('fe80::1')).toBe('link-local')
    expect(addressRange('fe80::1%eth0')).toBe('link-local')
    expect(addressRange('169.254.1.1')).toBe('link-local')
    expect(addressRange('224.0.0.1')).toBe('multicast')
    expect(addressRange('ff02::1')).toBe('multicast')
    expect(addressRange('255.255.255.255')).toBe('reserved')
    expect(addressRange('::7f00:1')).toBe('reserved')
  })

  it('lets public addresses through', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      expect(addressRange(address), address).toBeUndefined()
    }
  })

  it('refuses provider URLs by their literal address, as the URL parser normalises odd spellings', () => {
    for (const url of [
      'https://169.254.169.254/latest/meta-data/',
      'https://[::ffff:169.254.169.254]/',
      'https://2852039166/',
      'https://0xa9.0xfe.0xa9.0xfe/',
      'https://0251.0376.0251.0376/',
      'https://169.254.43518/',
      'https://0/',
      'https://127.1:6379/',
      'https://[::]:5432/',
    ]) {
      expect(outboundUrlProblem(url, STRICT_POLICY), url).toMatch(/^points to (a (link-local\/metadata|loopback)|an unspecified) address, inside the network$/)
    }

    expect(outboundUrlProblem('https://hooks.slack.com/services/T/B/X', STRICT_POLICY)).toBeUndefined()
    expect(outboundUrlProblem('https://10.0.0.5/hook', {allowHttp: false, allowPrivateNetwork: true})).toBeUndefined()
  })

  it('refuses plain http unless allowed, other schemes always, and any user name or password', () => {
    expect(outboundUrlProblem('http://hooks.slack.com/services/T/B/X', STRICT_POLICY)).toBe('must be an https:// URL: plain http:// would send it unencrypted')
    expect(outboundUrlProblem('http://hooks.slack.com/services/T/B/X', {allowHttp: true, allowPrivateNetwork: false})).toBeUndefined()
    expect(outboundUrlProblem('ftp://example.com/x', {allowHttp: true, allowPrivateNetwork: true})).toBe('must be an https:// URL')
    expect(outboundUrlProblem('https://user:canary-pw@example.com/x', {allowHttp: true, allowPrivateNetwork: true})).toBe('must not hold a user name or password (user:password@)')
    expect(outboundUrlProblem('https://token@example.com/x', STRICT_POLICY)).toBe('must not hold a user name or password (user:password@)')
  })

  it('is checked with the channel configuration, naming the field and never the value', () => {
    const secret = 'https://ops:canary-Pw1@hooks.example.com/services/T/B/X'
    const issues = checkChannelConfig('slack', {url: secret})
    expect(issues).toEqual([{field: 'url', message: 'must not hold a user name or password (user:password@)'}])
    expect(checkChannelConfig('pagerduty', {eventsUrl: 'https://[::ffff:169.254.169.254]/v2/enqueue', routingKey: 'R'.repeat(32)})).toEqual([
      {field: 'eventsUrl', message: 'points to a link-local/metadata address, inside the network'},
    ])
    expect(checkChannelConfig('webhook', {allowHttp: true, allowPrivateNetwork: true, signingSecret: 's'.repeat(16), url: 'http://127.0.0.1:9/hook'})).toEqual([])
  })
})

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')

  it('caps absurd delays at an hour and says so', () => {
    expect(parseRetryAfter('99999999999999999', now)).toEqual({ms: HOUR, note: 'Retry-After 99999999999999999s capped at 1h'})
    expect(parseRetryAfter('999999', now)).toEqual({ms: HOUR, note: 'Retry-After 999999s capped at 1h'})
    expect(parseRetryAfter('9'.repeat(400), now)).toEqual({ms: HOUR, note: `Retry-After ${'9'.repeat(40)}...s capped at 1h`})
    expect(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now)).toEqual({ms: HOUR, note: 'Retry-After Fri, 31 Dec 9999 23:59:59 GMT capped at 1h'})
    expect(parseRetryAfter('3600', now)).toEqual({ms: HOUR, note: undefined})
  })

  it('reads the three HTTP date forms, a past date as no wait, and fractions rounded up', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now).ms).toBe(30_000)
    expect(parseRetryAfter('Thursday, 01-Jan-26 00:01:00 GMT', now).ms).toBe(60_000)
    expect(parseRetryAfter('Thu Jan  1 00:00:05 2026', now).ms).toBe(5000)
    expect(parseRetryAfter('Mon, 01 Jan 1990 00:00:00 GMT', now)).toEqual({ms: 0, note: undefined})
    expect(parseRetryAfter('1.5', now).ms).toBe(2000)
    expect(parseRetryAfter('0', now).ms).toBe(0)
  })

  it('ignores garbage, negative and non-numbers, saying so, and quotes only printable text', () => {
    for (const value of ['-5', 'NaN', 'Infinity', '1e9', 'soon', '0x10', '2026-01-01', 'Fri, 31 Dec 99999 23:59:59 GMT']) {
      const parsed = parseRetryAfter(value, now)
      expect(parsed.ms, value).toBeUndefined()
      expect(parsed.note, value).toMatch(/^Retry-After ".*" not understood; ignored$/)
    }

    expect(parseRetryAfter('\u001b[2Jx', now).note).toBe('Retry-After "?[2Jx" not understood; ignored')
    expect(parseRetryAfter('   ', now)).toEqual({ms: undefined, note: undefined})
  })
})

describe('SMTP URLs', () => {
  it('become options, the password percent-decoded, TLS required unless ?tls=none', () => {
    expect(parseSmtpUrl('smtp://ops%40example.com:p%23ss%2Fw%3Frd@mail.example.com')).toEqual({
      host: 'mail.example.com',
      password: 'p#ss/w?rd',
      port: 587,
      secure: false,
      tls: 'required',
      user: 'ops@example.com',
    })
    expect(parseSmtpUrl('smtps://u:p@mail.example.com')).toMatchObject({port: 465, secure: true, tls: 'required'})
    expect(parseSmtpUrl('smtp://relay.internal:25?tls=none')).toMatchObject({password: undefined, port: 25, tls: 'none', user: undefined})
    expect(parseSmtpUrl('smtp://u:p@mail.example.com:587?requireTLS=true', {strict: true})).toMatchObject({tls: 'required'})
  })

  it('refuse what they cannot read without quoting it: raw #, / or ? in a password, other parameters', () => {
    for (const url of ['smtp://u:pa#ss@mail.example.com:587', 'smtp://u:12#@mail.example.com', 'smtp://u:12/x@mail.example.com', 'smtp://u:12?x@mail.example.com', 'smtp://u:p%zz@mail.example.com']) {
      const parsed = parseSmtpUrl(url, {strict: true})
      expect('problem' in parsed, url).toBe(true)
      expect(JSON.stringify(parsed), url).not.toMatch(/pa#ss|12|%zz|mail\.example/)
      expect(JSON.stringify(parsed)).toContain('percent-encode')
    }

    expect(parseSmtpUrl('smtps://u:p@mail.example.com?tls=none')).toMatchObject({problem: expect.stringContaining('?tls=none only with smtp://')})
    expect(parseSmtpUrl('smtp://u:p@mail.example.com?ignoreTLS=true', {strict: true})).toMatchObject({problem: expect.stringContaining('?tls=none')})
    expect(parseSmtpUrl('smtp://u:p@mail.example.com?requireTLS=false', {strict: true})).toMatchObject({problem: expect.stringContaining('?tls=none')})
    expect(checkChannelConfig('smtp', {from: 'a@example.com', to: ['b@example.com'], url: 'smtp://u:p@169.254.169.254:25'})).toEqual([
      {field: 'url', message: 'points to a link-local/metadata address, inside the network'},
    ])
  })
})

describe('scrubbing', () => {
  it('leaves the scheme and host of a URL, never a path, user name or password', () => {
    expect(scrubUrls('The URL smtp://user:p#ss@mail.example.com:587 is invalid.')).toBe('The URL smtp://... is invalid.')
    expect(scrubUrls('posting to https://hooks.slack.com/services/T0/B0/SECRET failed')).toBe('posting to https://hooks.slack.com/... failed')
    expect(scrubUrls('Request cannot be constructed from a URL that includes credentials: http://u:canary@h/x')).not.toContain('canary')
    expect(scrubUrls('no URL here')).toBe('no URL here')
  })

  it('takes URLs out of Node warnings printed on stderr', () => {
    const printed: string[] = []
    const before = process.listeners('warning')
    try {
      printWarningsScrubbed((text) => printed.push(text))
      process.emit('warning', Object.assign(new Error('The URL smtp://ops:canary-pw@mail.example.com/x is invalid.'), {code: 'DEP0170', name: 'DeprecationWarning'}))
    } finally {
      for (const listener of process.listeners('warning')) process.removeListener('warning', listener)
      for (const listener of before) process.on('warning', listener)
    }

    expect(printed).toEqual([`(node:${process.pid}) [DEP0170] DeprecationWarning: The URL smtp://... is invalid.\n`])
  })
})

describe('the environment\'s opt-outs', () => {
  it('are off unless set to a yes, and a value that is neither is refused', () => {
    expect(networkSettings({})).toEqual({allowHttp: false, allowPrivateNetwork: false})
    expect(networkSettings({SYNTHEX_ALLOW_HTTP: '1', SYNTHEX_ALLOW_PRIVATE_NETWORK: 'true'})).toEqual({allowHttp: true, allowPrivateNetwork: true})
    expect(networkSettings({SYNTHEX_ALLOW_HTTP: '0', SYNTHEX_ALLOW_PRIVATE_NETWORK: ''})).toEqual({allowHttp: false, allowPrivateNetwork: false})
    expect(() => networkSettings({SYNTHEX_ALLOW_PRIVATE_NETWORK: 'maybe'})).toThrow('Invalid SYNTHEX_ALLOW_PRIVATE_NETWORK: expected 1 or 0')
  })
})
