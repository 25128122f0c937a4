import {terminalLine} from '../text/terminal-text.js'
import {consoleLink, digestTitle, escapeHtml, headline, SEVERITY_LABEL} from './format.js'
import type {Delivery} from './notifier.js'

/**
 * One digest email: a subject, a text part and an HTML part with every value escaped. The
 * text part is often read in a terminal (mutt, `mail`, a log of the message): its values
 * keep to one line each and show control characters escaped, as synthex's own output does.
 */
export interface EmailContent {
  readonly html: string
  readonly subject: string
  readonly text: string
}

export function emailContent(delivery: Delivery): EmailContent {
  const subject = digestTitle(delivery.messages)
  const text = [
    subject,
    '',
    ...delivery.messages.map((message) => {
      const link = consoleLink(delivery.consoleUrl, message)
      return `- [${SEVERITY_LABEL[message.severity]}] ${terminalLine(headline(message))} (${terminalLine(message.tenantName)}, ${terminalLine(message.tenantId)}, workspace ${terminalLine(message.workspace)})${link ? `\n  ${link}` : ''}`
    }),
    '',
    `synthex run ${delivery.runId}`,
  ].join('\n')
  const rows = delivery.messages
    .map((message) => {
      const link = consoleLink(delivery.consoleUrl, message)
      const action = link ? ` <a href="${escapeHtml(link)}">${message.details.service ? 'Rotate credential' : 'Open tenant'}</a>` : ''
      return `<tr><td>${SEVERITY_LABEL[message.severity]}</td><td>${escapeHtml(message.tenantName)}<br><small>${escapeHtml(message.tenantId)} · ${escapeHtml(message.workspace)}</small></td><td>${escapeHtml(headline(message))}${action}</td></tr>`
    })
    .join('\n')
  const html = `<!doctype html><html><body><h2>${escapeHtml(subject)}</h2><table border="1" cellpadding="4" cellspacing="0"><thead><tr><th>Severity</th><th>Tenant</th><th>Alert</th></tr></thead><tbody>\n${rows}\n</tbody></table><p><small>synthex run ${escapeHtml(delivery.runId)}</small></p></body></html>`
  return {html, subject, text}
}
