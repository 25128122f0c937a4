import {type Severity, severityRank} from '../../domain/severity.js'
import type {AlertInsert, OpenAlert} from '../alerts/alert-decisions.js'
import type {AlertCandidate} from '../alerts/alert-evaluation.js'
import type {QueuedEvent} from './webhook-queue.js'

/**
 * The public events of a reconcile (src/services/alerts/alert-reconcile.ts), pure: what the
 * alerts did, not what was notified. Webhooks are integrations, not notifications, so:
 *
 * - `alert.fired` when an alert opens, `alert.resolved` when it closes, whether or not it
 *   was silenced (the event says `silenced`); a silence mutes channels, not subscribers.
 * - `alert.escalated` when an open alert gets worse: a higher severity, or another rule at a
 *   severity no lower (an expiring credential that expired). Reminders are not events.
 * - Each alert is its own event: the storm guard's digests (alert-storms.ts) are about
 *   channels, and a subscriber filters what it wants.
 * - `credential.expiring` when `credential_expiring` fires or escalates (the time left
 *   crossed one of the rule's thresholds), `credential.expired` when `credential_expired`
 *   fires or an expiring alert becomes it.
 *
 * health_failing is about the installation, not a workspace: its events go only to
 * subscriptions of every workspace (workspaceId null), and carry tenantId null.
 */

export interface AlertTransitions {
  /** The open alerts (as the reconcile read them) by fingerprint, for escalations. */
  readonly before: ReadonlyMap<string, OpenAlert>
  /** What the rules found that was decided (new, or an open alert that may have changed). */
  readonly candidates: readonly AlertCandidate[]
  /** The new alerts, and their ids in the same order. */
  readonly inserted: readonly number[]
  readonly inserts: readonly AlertInsert[]
  readonly now: Date
  readonly resolved: readonly OpenAlert[]
  /** Whether a candidate is muted by a silence now. */
  readonly silenced: (candidate: AlertCandidate) => boolean
  /** Workspace slugs by id (for resolving alerts). */
  readonly workspaces: ReadonlyMap<string, string>
}

/** A credential alert that fired or escalated in this run: for the webhooks and for Datadog events. */
export interface CredentialExpiryEvent {
  readonly daysLeft: number
  readonly expiresAt: string
  /** The alert's fingerprint: Datadog's aggregation key. */
  readonly fingerprint: string
  readonly label: string
  readonly rule: 'credential_expired' | 'credential_expiring'
  readonly service: string
  readonly severity: Severity
  readonly summary: string
  readonly tenantId: string
  readonly tenantName: string
  readonly withinDays?: number
  readonly workspace: string
  readonly workspaceId: string
}

export interface AlertEvents {
  readonly credentials: CredentialExpiryEvent[]
  readonly webhooks: QueuedEvent[]
}

const INSTALLATION_RULES = new Set(['health_failing'])

/** Worse: a higher severity, or another rule at a severity no lower. */
export function escalates(before: Pick<OpenAlert, 'rule' | 'severity'>, after: Pick<AlertCandidate, 'rule' | 'severity'>): boolean {
  const change = severityRank(after.severity) - severityRank(before.severity)
  return change > 0 || (change === 0 && after.rule !== before.rule)
}

export function alertEvents(input: AlertTransitions): AlertEvents {
  const webhooks: QueuedEvent[] = []
  const credentials: CredentialExpiryEvent[] = []
  const at = input.now
  const scope = (rule: string, workspaceId: string): null | string => (INSTALLATION_RULES.has(rule) ? null : workspaceId)
  const tenantOf = (rule: string, tenantId: string): null | string => (INSTALLATION_RULES.has(rule) ? null : tenantId)

  const credential = (candidate: AlertCandidate): void => {
    if (candidate.rule !== 'credential_expiring' && candidate.rule !== 'credential_expired') return
    const details = candidate.details as {daysLeft: number; expiresAt: string; label: string; service: string; withinDays?: number}
    const event: CredentialExpiryEvent = {
      daysLeft: details.daysLeft,
      expiresAt: details.expiresAt,
      fingerprint: candidate.fingerprint,
      label: details.label,
      rule: candidate.rule,
      service: details.service,
      severity: candidate.severity,
      summary: candidate.summary,
      tenantId: candidate.tenantId,
      tenantName: candidate.tenantName,
      ...(candidate.rule === 'credential_expiring' ? {withinDays: details.withinDays} : {}),
      workspace: candidate.workspace,
      workspaceId: candidate.workspaceId,
    }
    credentials.push(event)
    const common = {daysLeft: event.daysLeft, expiresAt: event.expiresAt, label: event.label, service: event.service, tenantId: event.tenantId, workspace: event.workspace}
    webhooks.push(
      candidate.rule === 'credential_expiring'
        ? {at, data: {...common, severity: event.severity, withinDays: event.withinDays}, type: 'credential.expiring', workspaceId: candidate.workspaceId}
        : {at, data: common, type: 'credential.expired', workspaceId: candidate.workspaceId},
    )
  }

  const fired = (candidate: AlertCandidate, id: number, startedAt: Date): Record<string, unknown> => ({
    alertId: id,
    details: candidate.details,
    fingerprint: candidate.fingerprint,
    rule: candidate.rule,
    severity: candidate.severity,
    silenced: input.silenced(candidate),
    startedAt: startedAt.toISOString(),
    summary: candidate.summary,
    tenantId: tenantOf(candidate.rule, candidate.tenantId),
    workspace: candidate.workspace,
  })

  for (const candidate of input.candidates) {
    const before = input.before.get(candidate.fingerprint)
    if (!before || !escalates(before, candidate)) continue
    webhooks.push({
      at,
      data: {...fired(candidate, before.id, before.startedAt), previousRule: before.rule, previousSeverity: before.severity},
      type: 'alert.escalated',
      workspaceId: scope(candidate.rule, candidate.workspaceId),
    })
    credential(candidate)
  }

  for (const alert of input.resolved) {
    webhooks.push({
      at,
      data: {
        alertId: alert.id,
        fingerprint: alert.fingerprint,
        resolvedAt: at.toISOString(),
        rule: alert.rule,
        severity: alert.severity,
        startedAt: alert.startedAt.toISOString(),
        summary: alert.summary,
        tenantId: tenantOf(alert.rule, alert.tenantId),
        workspace: input.workspaces.get(alert.workspaceId) ?? null,
      },
      type: 'alert.resolved',
      workspaceId: scope(alert.rule, alert.workspaceId),
    })
  }

  for (const [index, {candidate}] of input.inserts.entries()) {
    webhooks.push({at, data: fired(candidate, input.inserted[index] as number, at), type: 'alert.fired', workspaceId: scope(candidate.rule, candidate.workspaceId)})
    credential(candidate)
  }

  return {credentials, webhooks}
}
