import type {Severity} from '../domain/severity.js'
import type {AlertMessage} from './notifier.js'

/** Words and marks for alerts, shared by every notifier so they say the same thing. */

export const SEVERITY_LABEL: Record<Severity, string> = {critical: 'CRITICAL', info: 'INFO', warning: 'WARNING'}
export const SEVERITY_MARK: Record<Severity, string> = {critical: '🔴', info: '🔵', warning: '🟠'}

export function highestSeverity(messages: readonly AlertMessage[]): Severity {
  if (messages.some((message) => message.severity === 'critical')) return 'critical'
  return messages.some((message) => message.severity === 'warning') ? 'warning' : 'info'
}

/** "Resolved: ..." for a resolved alert, "Reminder: ..." for a reminder; the summary otherwise. */
export function headline(message: AlertMessage): string {
  switch (message.kind) {
    case 'resolved': {
      return `Resolved: ${message.summary}`
    }

    case 'reminder': {
      return `Still firing: ${message.summary}`
    }

    case 'escalated': {
      // Also sent when the rule changes at the same severity (an expiring credential expired):
      // then the summary says what got worse.
      return message.escalatedFrom && message.escalatedFrom !== message.severity ? `Escalated to ${message.severity}: ${message.summary}` : message.summary
    }

    default: {
      return message.summary
    }
  }
}

const plural = (count: number, word: string): string => `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`

/** How many alerts a message stands for: a storm's digest counts its alerts. */
export function alertsIn(message: AlertMessage): number {
  const count = message.details.digestOf
  return typeof count === 'number' && Number.isInteger(count) && count > 0 ? count : 1
}

/**
 * A title for a group of messages: `[CRITICAL] 3 credentials expire within 1 day` when they
 * are all the same kind of credential alert, `[WARNING] 5 synthex alerts` otherwise.
 */
export function digestTitle(messages: readonly AlertMessage[]): string {
  const severity = highestSeverity(messages)
  const [first] = messages
  const same = messages.every((message) => message.rule === first?.rule && message.kind === first?.kind)
  // A storm's digest (alert-storms.ts) stands for the alerts it counts.
  const count = messages.reduce((sum, message) => sum + alertsIn(message), 0)
  let what = `${plural(count, 'synthex alert')}`
  if (same && first?.kind === 'resolved') what = `${plural(count, 'alert')} resolved`
  else if (same && first?.rule === 'credential_expiring') {
    const within = Math.max(...messages.map((message) => Number(message.details.withinDays ?? 0)))
    what = `${plural(count, 'credential')} ${count === 1 ? 'expires' : 'expire'}${within > 0 ? ` within ${plural(within, 'day')}` : ' soon'}`
  } else if (same && first?.rule === 'credential_expired') what = `${plural(count, 'credential')} expired`
  else if (same && first?.rule === 'tenant_inactive') what = `${plural(count, 'tenant')} inactive`
  return `[${SEVERITY_LABEL[severity]}] ${what}`
}

/** Where an operator can act on an alert, when a console URL is configured. */
export function consoleLink(consoleUrl: string | undefined, message: AlertMessage): string | undefined {
  if (!consoleUrl || message.details.digestOf !== undefined) return undefined
  const base = consoleUrl.replace(/\/+$/, '')
  const tenant = `${base}/workspaces/${encodeURIComponent(message.workspace)}/tenants/${encodeURIComponent(message.tenantId)}`
  return message.details.service ? `${tenant}/credentials/${encodeURIComponent(String(message.details.service))}` : tenant
}

/**
 * Slack mrkdwn: `&`, `<` and `>` are control characters and must be escaped (Slack docs,
 * "Formatting text"). Unescaped, a tenant named `<!channel>` pings the whole channel and
 * `<https://evil.example|Reset your password>` becomes a link.
 */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

/** Cuts escaped mrkdwn to `max` characters like `truncate`, never leaving half an entity (`&am…`) behind. */
export function truncateMrkdwn(text: string, max: number): string {
  const cut = truncate(text, max)
  // Escaped text has no `&` but those that start an entity, so one without its `;` was cut.
  return cut === text ? text : cut.replace(/&[a-z]{0,3}…$/, '…')
}

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}

/** Cuts text to `max` characters (code points), marking the cut. */
export function truncate(text: string, max: number): string {
  const characters = [...text]
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join('')}…`
}
