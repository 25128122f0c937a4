import {describe, expect, it} from 'vitest'

import {ConsoleNotifier} from '../../src/notifiers/console.js'
import {emailContent} from '../../src/notifiers/email-content.js'
import {digestTitle, escapeHtml, escapeMrkdwn, headline, truncateMrkdwn} from '../../src/notifiers/format.js'
import type {AlertMessage} from '../../src/notifiers/notifier.js'
import {pagerdutyEvent} from '../../src/notifiers/pagerduty.js'
import {MAX_PER_MESSAGE, slackMessage} from '../../src/notifiers/slack.js'
import {webhookSignature} from '../../src/notifiers/webhook.js'
import {parseRetryAfter} from '../../src/net/retry-after.js'

function alert(overrides: Partial<AlertMessage> = {}): AlertMessage {
  return {
    alertId: 1,
    details: {daysLeft: 0, label: 'default', service: 'shopify', withinDays: 1},
    fingerprint: 'f'.repeat(32),
    kind: 'firing',
    rule: 'credential_expiring',
    severity: 'critical',
    startedAt: '2026-11-22T00:00:00.000Z',
    summary: 'Shopify credential of Acme (acme) expires within a day',
    tenantId: 'acme',
    tenantName: 'Acme',
    workspace: 'default',
    ...overrides,
  }
}

describe('alert wording', () => {
  it('titles a digest by what it holds', () => {
    expect(digestTitle([alert(), alert(), alert()])).toBe('[CRITICAL] 3 credentials expire within 1 day')
    expect(digestTitle([alert({details: {withinDays: 7}, severity: 'warning'})])).toBe('[WARNING] 1 credential expires within 7 days')
    expect(digestTitle([alert({kind: 'resolved'}), alert({kind: 'resolved'})])).toBe('[CRITICAL] 2 alerts resolved')
    expect(digestTitle([alert(), alert({rule: 'tenant_inactive', severity: 'info'})])).toBe('[CRITICAL] 2 synthex alerts')
  })

  it('says "escalated" only when the severity rose', () => {
    expect(headline(alert({escalatedFrom: 'warning', kind: 'escalated'}))).toBe('Escalated to critical: Shopify credential of Acme (acme) expires within a day')
    expect(headline(alert({escalatedFrom: 'critical', kind: 'escalated', summary: 'x expired today'}))).toBe('x expired today')
    expect(headline(alert({kind: 'reminder'}))).toBe('Still firing: Shopify credential of Acme (acme) expires within a day')
  })

  it('escapes what Slack mrkdwn and HTML treat as markup', () => {
    expect(escapeMrkdwn('<b>&"\'')).toBe('&lt;b&gt;&amp;"\'')
    expect(escapeHtml('<b>&"\'')).toBe('&lt;b&gt;&amp;&quot;&#39;')
  })
})

describe('Slack messages', () => {
  it('fit Block Kit limits at the largest digest a message carries, with an escaped tenant name', () => {
    const many = Array.from({length: MAX_PER_MESSAGE}, (_, index) => alert({tenantId: `t-${index}`, tenantName: `<b>&"' ${'x'.repeat(300)}`}))
    const message = slackMessage({consoleUrl: 'https://console.example.com', messages: many, runId: 'run'}) as {blocks: Array<{accessory?: {url: string}; text?: {text: string}; type: string}>; text: string}
    expect(message.blocks.length).toBeLessThanOrEqual(50)
    expect(message.blocks[0]?.type).toBe('header')
    expect([...(message.blocks[0]?.text?.text ?? '')].length).toBeLessThanOrEqual(150)
    expect(message.text.length).toBeLessThanOrEqual(3000)
    const section = message.blocks[1]
    expect(section?.text?.text).toContain('*&lt;b&gt;&amp;"\'')
    expect(section?.text?.text).not.toContain('<b>')
    expect(section?.accessory?.url).toBe('https://console.example.com/workspaces/default/tenants/t-0/credentials/shopify')
  })

  it('escape the top-level text like the blocks, so a tenant name neither pings the channel nor becomes a link', () => {
    const name = '<!channel> <https://evil.example|Reset your password> & co'
    const message = slackMessage({messages: [alert({summary: `Shopify credential of ${name} (acme) expires within a day`, tenantName: name})], runId: 'run'}) as {blocks: Array<{text?: {text: string}}>; text: string}
    expect(message.text).toBe('[CRITICAL] 1 credential expires within 1 day\n• Shopify credential of &lt;!channel&gt; &lt;https://evil.example|Reset your password&gt; &amp; co (acme) expires within a day')
    for (const text of [message.text, ...message.blocks.map((block) => block.text?.text ?? '')]) {
      expect(text).not.toMatch(/[<>]/)
      expect(text.replaceAll(/&(?:amp|lt|gt);/g, '')).not.toContain('&')
    }
  })

  it('cut escaped text without leaving half an entity', () => {
    expect(truncateMrkdwn('ab&amp;cd', 5)).toBe('ab…')
    expect(truncateMrkdwn('ab&lt;', 5)).toBe('ab…')
    expect(truncateMrkdwn('abc&lt;', 6)).toBe('abc…')
    expect(truncateMrkdwn('&lt;&gt;x', 9)).toBe('&lt;&gt;x')
    expect(truncateMrkdwn('&lt;&gt;xy', 9)).toBe('&lt;&gt;…')
    const long = slackMessage({messages: [alert({summary: '<'.repeat(4000)})], runId: 'run'}) as {blocks: Array<{text?: {text: string}; type: string}>; text: string}
    expect(long.text.length).toBeLessThanOrEqual(3000)
    expect(long.text).toMatch(/(?:&lt;)+…$/)
    expect(long.blocks[1]?.text?.text).toMatch(/(?:&lt;)+…$/)
  })

  it('offer no "Rotate credential" button without a console URL, nor on a resolved alert', () => {
    const plain = slackMessage({messages: [alert()], runId: 'run'}) as {blocks: Array<{accessory?: unknown}>}
    expect(plain.blocks.some((block) => block.accessory)).toBe(false)
    const resolved = slackMessage({consoleUrl: 'https://c', messages: [alert({kind: 'resolved'})], runId: 'run'}) as {blocks: Array<{accessory?: unknown}>}
    expect(resolved.blocks.some((block) => block.accessory)).toBe(false)
  })
})

describe('PagerDuty events', () => {
  it('use the fingerprint as dedup_key, map kinds to actions, and cut the summary at 1,024 characters', () => {
    const long = alert({summary: 'y'.repeat(2000)})
    const event = pagerdutyEvent('key', long, undefined) as {dedup_key: string; event_action: string; payload: {severity: string; summary: string}}
    expect(event.dedup_key).toBe(long.fingerprint)
    expect(event.event_action).toBe('trigger')
    expect([...event.payload.summary].length).toBe(1024)
    expect(event.payload.severity).toBe('critical')
    expect((pagerdutyEvent('key', alert({kind: 'resolved'}), undefined) as {event_action: string}).event_action).toBe('resolve')
  })
})

describe('email digests', () => {
  it('escape every value in the HTML part and keep a plain text part', () => {
    const content = emailContent({consoleUrl: 'https://c', messages: [alert({tenantName: '<b>&"\''})], runId: 'run'})
    expect(content.subject).toBe('[CRITICAL] 1 credential expires within 1 day')
    expect(content.html).toContain('&lt;b&gt;&amp;&quot;&#39;')
    expect(content.html).toContain('href="https://c/workspaces/default/tenants/acme/credentials/shopify"')
    expect(content.html).not.toContain('<b>&')
    expect(content.text).toContain('<b>&"\'')
  })

  it('keep control characters out of the text part, which is often read in a terminal', () => {
    const content = emailContent({messages: [alert({summary: 'x\u001B[2J\ny', tenantName: 'Evil\u001B]0;t\u0007\u202E'})], runId: 'run'})
    expect(content.text).toContain('- [CRITICAL] x\\x1b[2J y (Evil\\x1b]0;t\\x07\\u202e, acme, workspace default)')
    // eslint-disable-next-line no-control-regex
    expect(content.text).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E]/)
  })
})

describe('the console channel', () => {
  it('prints one line per alert, with control characters shown escaped', async () => {
    let printed = ''
    const notifier = new ConsoleNotifier({concurrency: 1, perMinute: 60}, (text) => (printed += text))
    const name = 'Evil\u001B[2J\u001B]0;pwned\u0007\n[CRITICAL] forged line \u009B31m'
    await notifier.send({messages: [alert({summary: `${name} (evil) has had no activity for 90 days`, tenantName: name, workspace: 'w\u001B[1m'})], runId: 'run'})
    expect(printed).toBe('[CRITICAL] Evil\\x1b[2J\\x1b]0;pwned\\x07 [CRITICAL] forged line \\x9b31m (evil) has had no activity for 90 days (workspace w\\x1b[1m)\n')
  })
})

describe('retries', () => {
  it('read Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3').ms).toBe(3000)
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')).ms).toBe(10_000)
    expect(parseRetryAfter('soon').ms).toBeUndefined()
    expect(parseRetryAfter(undefined).ms).toBeUndefined()
  })

  it('sign webhook bodies with HMAC-SHA256 (RFC 4231, test case 2)', () => {
    expect(webhookSignature('Jefe', 'what do ya want for nothing?')).toBe('sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  })
})
