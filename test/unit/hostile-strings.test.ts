import {Readable} from 'node:stream'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {type Column, Output} from '../../src/cli/output.js'
import {TENANT_COLUMNS, tenantRecord} from '../../src/cli/tenant-view.js'
import {ConsoleNotifier} from '../../src/notifiers/console.js'
import {emailContent} from '../../src/notifiers/email-content.js'
import {headline, truncate} from '../../src/notifiers/format.js'
import type {AlertMessage, Delivery} from '../../src/notifiers/notifier.js'
import {pagerdutyEvent} from '../../src/notifiers/pagerduty.js'
import {slackMessage} from '../../src/notifiers/slack.js'
import {webhookBody} from '../../src/notifiers/webhook.js'
import {type CsvRow, openTenantCsv} from '../../src/services/import/tenant-csv.js'
import type {Tenant} from '../../src/services/tenants/tenants.js'

/**
 * Generated hostile tenant names through every place a name lands, each checked for that
 * destination's escaping. Runs are bounded so the file takes a second or two.
 */

const RUNS = {numRuns: 150}

/** What a terminal would obey: C0 but newline and tab, DEL, C1, bidi overrides and isolates, line and paragraph separators. */
// eslint-disable-next-line no-control-regex
const OBEYED = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/

const PIECES = [
  // Terminal: CSI, OSC (title, clipboard), 8-bit CSI, cursor tricks.
  '\u001B[2J',
  '\u001B[31m',
  '\u001B]0;pwned-title\u0007',
  '\u001B]52;c;cHduZWQ=\u001B\\',
  '\u009B6n',
  '\u0085',
  '\r',
  '\b',
  '\u007F',
  '\u0000',
  '\n',
  '\t',
  '\u202E',
  '\u2066',
  '\u2028',
  // Slack mrkdwn and HTML.
  '<!channel>',
  '<!here|here>',
  '<https://evil.example|Reset your password>',
  '<@U012AB3CD>',
  '&',
  '&amp;',
  '&lt;',
  '*',
  '_',
  '~',
  '`',
  '<script>alert(1)</script>',
  '"',
  "'",
  '<img src=x onerror=alert(1)>',
  // Spreadsheet formulas.
  '=',
  '+',
  '-',
  '@',
  "'",
  '=HYPERLINK("https://evil.example","Click")',
  "+cmd|'/C calc'!A0",
  '@SUM(1+1)*cmd|" /C calc"!A0',
  '-12',
  // CSV structure.
  ',',
  '""',
  '\r\n',
  // Lone surrogates and other text.
  '\uD800',
  '\uDFFF',
  '😀',
  'Zürich',
  'ok',
  ' ',
]

/** A hostile string: pieces from the list above mixed with arbitrary code points. */
const hostile = fc
  .array(fc.oneof({arbitrary: fc.constantFrom(...PIECES), weight: 3}, {arbitrary: fc.string({maxLength: 4, unit: 'binary'}), weight: 1}), {maxLength: 12})
  .map((parts) => parts.join(''))

/** Occasionally very long: beyond every limit a destination has. */
const name = fc.oneof({arbitrary: hostile, weight: 9}, {arbitrary: hostile.map((text) => text.repeat(Math.ceil(4000 / Math.max(1, text.length)))), weight: 1})

function tenant(tenantName: string): Tenant {
  return {
    createdAt: new Date('2026-01-01T00:00:00Z'),
    gmcMerchantId: null,
    lastActivityAt: null,
    market: 'US',
    name: tenantName,
    region: tenantName,
    shopifyShop: 'evil.myshopify.com',
    status: 'active',
    tenantId: 'evil-1',
    type: 'shopify',
    updatedAt: new Date('2026-01-01T00:00:00Z'),
    workspace: 'default',
  } as Tenant
}

function message(tenantName: string): AlertMessage {
  return {
    alertId: 1,
    details: {inactiveDays: 90},
    fingerprint: 'f'.repeat(32),
    kind: 'firing',
    rule: 'tenant_inactive',
    severity: 'warning',
    startedAt: '2026-01-01T00:00:00.000Z',
    summary: `${tenantName} (evil-1) has had no activity for 90 days`,
    tenantId: 'evil-1',
    tenantName,
    workspace: 'default',
  }
}

const delivery = (tenantName: string): Delivery => ({consoleUrl: 'https://console.example.com', messages: [message(tenantName), message('Plain')], runId: 'run-1'})

function capture(options: {json?: boolean} = {}) {
  const out = {stderr: '', stdout: ''}
  const output = new Output({json: options.json ?? false, stderrColor: false, stdoutColor: false}, {write: (chunk: string) => (out.stdout += chunk)}, {write: (chunk: string) => (out.stderr += chunk)})
  return {out, output}
}

/** What a UTF-8 file holds of a string: lone surrogates become U+FFFD, as any UTF-8 writer makes them. */
const asUtf8 = (text: string): string => Buffer.from(text, 'utf8').toString('utf8')

async function readCsv(bytes: Buffer | string): Promise<CsvRow[]> {
  const csv = await openTenantCsv(Readable.from([Buffer.from(bytes)]))
  const rows: CsvRow[] = []
  for await (const batch of csv.rows) rows.push(...batch)
  return rows
}

/** Slack's three control characters appear only as its escapes. */
function onlyEscapedMarkup(text: string): boolean {
  return !/[<>]/.test(text) && !text.replaceAll(/&(?:amp|lt|gt);/g, '').includes('&')
}

const unescapeMrkdwn = (text: string): string => text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')

describe('hostile tenant names', () => {
  it('reach the terminal as tables, records and messages with nothing a terminal would obey, one line per row', () => {
    fc.assert(
      fc.property(name, (tenantName) => {
        const {out, output} = capture()
        output.table([tenant(tenantName), tenant('Plain')], TENANT_COLUMNS)
        output.record(tenantRecord(tenant(tenantName)))
        output.success(`Created ${tenantName}`)
        output.error(`No tenant ${tenantName}`, {hint: tenantName})
        expect(out.stdout + out.stderr).not.toMatch(OBEYED)
        expect(out.stdout.split('\n')).toHaveLength(3 + tenantRecord(tenant('x')).length + 1)
      }),
      RUNS,
    )
  })

  it('reach --json exactly: the same string parses back, and nothing a terminal would obey is written raw', () => {
    fc.assert(
      fc.property(name, (tenantName) => {
        const {out, output} = capture({json: true})
        output.json({tenants: [tenant(tenantName)]})
        expect(out.stdout).not.toMatch(OBEYED)
        expect((JSON.parse(out.stdout) as {tenants: Array<{name: string}>}).tenants[0]?.name).toBe(tenantName)
      }),
      RUNS,
    )
  })

  it('reach CSV neutralised against formulas, and come back exactly through the import\'s parser', async () => {
    await fc.assert(
      fc.asyncProperty(name, async (tenantName) => {
        const {out, output} = capture()
        output.csv([tenant(tenantName)], TENANT_COLUMNS)
        const rows = await readCsv(out.stdout)
        expect(rows).toHaveLength(1)
        const [row] = rows
        // What a spreadsheet sees: no cell starts a formula (a negative number is only a number).
        for (const cell of row?.raw ?? []) expect(/^[=+\-@\t\r]/.test(cell) && !/^-\d+(?:\.\d+)?$/.test(cell), cell).toBe(false)
        // What the import reads: the name as it was (lone surrogates as U+FFFD, like any UTF-8 file).
        expect(row?.values.name).toBe(asUtf8(tenantName))
        expect(row?.values.region).toBe(asUtf8(tenantName))
        expect(row?.problem).toBeUndefined()
      }),
      {numRuns: 100},
    )
  })

  it('reach the import from a file with invalid UTF-8 as a rejected row naming the column, never as altered text', async () => {
    const bytes = fc.uint8Array({maxLength: 8, minLength: 1}).map((array) => Buffer.from(array.map((byte) => 0x80 | byte)))
    await fc.assert(
      fc.asyncProperty(bytes, hostile, async (raw, text) => {
        const field = Buffer.concat([Buffer.from(`"${asUtf8(text).replaceAll('"', '""')}`), raw, Buffer.from('"')])
        const file = Buffer.concat([Buffer.from('tenant_id,name,type\nevil-1,'), field, Buffer.from(',shopify\n')])
        const rows = await readCsv(file)
        let valid = true
        try {
          new TextDecoder('utf-8', {fatal: true}).decode(field)
        } catch {
          valid = false
        }

        if (valid) expect(rows[0]?.problem).toBeUndefined()
        else expect(rows[0]?.problem).toMatchObject({column: 'name', reason: expect.stringContaining('is not valid UTF-8')})
      }),
      {numRuns: 100},
    )
  })

  it('reach Slack with no unescaped <, > or & in the blocks or the top-level text, within Slack\'s limits', () => {
    fc.assert(
      fc.property(name, (tenantName) => {
        const body = JSON.parse(JSON.stringify(slackMessage(delivery(tenantName)))) as {blocks: Array<{elements?: Array<{text: string}>; text?: {text: string; type: string}; type: string}>; text: string}
        const texts = [body.text, ...body.blocks.flatMap((block) => [block.text?.type === 'mrkdwn' ? block.text.text : '', ...(block.elements ?? []).map((element) => element.text)])]
        for (const text of texts) expect(onlyEscapedMarkup(text), text).toBe(true)
        // Limits in characters (code points), as Slack counts them.
        expect([...body.text].length).toBeLessThanOrEqual(3000)
        for (const block of body.blocks) if (block.type === 'section') expect([...(block.text?.text ?? '')].length).toBeLessThanOrEqual(3000)
        // The fallback says what the alerts say, cut at most.
        const raw = ['[WARNING] 2 tenants inactive', ...delivery(tenantName).messages.map((item) => `• ${headline(item)}`)].join('\n')
        const shown = unescapeMrkdwn(body.text)
        if (shown.endsWith('…') && shown !== raw) expect(raw.startsWith(shown.slice(0, -1))).toBe(true)
        else expect(shown).toBe(raw)
      }),
      RUNS,
    )
  })

  it('reach email with the HTML markup unchanged by the name, and a text part with nothing a terminal would obey', () => {
    const tags = (html: string): string[] => html.match(/<[^>]*>/g) ?? []
    const benign = emailContent(delivery('Plain'))
    fc.assert(
      fc.property(name, (tenantName) => {
        const content = emailContent(delivery(tenantName))
        expect(tags(content.html)).toEqual(tags(benign.html))
        expect(content.html.replaceAll(/&(?:amp|lt|gt|quot|#39);/g, '')).not.toContain('&')
        expect(content.text).not.toMatch(OBEYED)
        expect(content.text.split('\n')).toHaveLength(benign.text.split('\n').length)
        expect(content.subject).toBe(benign.subject)
      }),
      RUNS,
    )
  })

  it('reach PagerDuty and webhooks as valid JSON that parses back to the same strings (the summary cut at 1,024 characters)', () => {
    fc.assert(
      fc.property(name, (tenantName) => {
        const event = JSON.parse(JSON.stringify(pagerdutyEvent('k'.repeat(32), message(tenantName), undefined))) as {payload: {custom_details: {tenantName: string}; summary: string}}
        expect(event.payload.custom_details.tenantName).toBe(tenantName)
        expect(event.payload.summary).toBe(truncate(headline(message(tenantName)), 1024))
        expect([...event.payload.summary].length).toBeLessThanOrEqual(1024)

        const body = webhookBody(delivery(tenantName))
        // Valid JSON in UTF-8: lone surrogates are written as escapes, not as broken bytes.
        expect(Buffer.from(body, 'utf8').toString('utf8')).toBe(body)
        const parsed = JSON.parse(body) as {alerts: Array<{headline: string; tenantName: string}>}
        expect(parsed.alerts[0]?.tenantName).toBe(tenantName)
        expect(parsed.alerts[0]?.headline).toBe(headline(message(tenantName)))
      }),
      RUNS,
    )
  })

  it('reach the console channel as one line per alert with nothing a terminal would obey', async () => {
    await fc.assert(
      fc.asyncProperty(name, async (tenantName) => {
        let printed = ''
        await new ConsoleNotifier({concurrency: 1, perMinute: 60}, (text) => (printed += text)).send(delivery(tenantName))
        expect(printed).not.toMatch(OBEYED)
        expect(printed.split('\n')).toHaveLength(3)
      }),
      RUNS,
    )
  })

  it('reach any column of any list the same way', () => {
    const columns: Column<{value: unknown}>[] = [{header: 'Value', key: 'value', value: (row) => row.value}]
    fc.assert(
      fc.property(fc.oneof(name, fc.jsonValue()), (value) => {
        const {out, output} = capture()
        output.table([{value}], columns)
        expect(out.stdout).not.toMatch(OBEYED)
      }),
      RUNS,
    )
  })
})
