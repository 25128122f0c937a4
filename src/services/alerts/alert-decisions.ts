import type {AlertMessage} from '../../notifiers/notifier.js'
import {type Severity, severityRank} from '../../domain/severity.js'
import type {AlertCandidate} from './alert-evaluation.js'
import {type SilenceWindow, silences} from './silences.js'

/**
 * The alert state machine, as a pure function: given the alerts the last reconcile left
 * firing, what the rules find now, the silences, the rules' repeat intervals, the channels
 * and the clock, it says which alerts to open, change and resolve and which notifications
 * to queue. No database, no I/O, no clock of its own: reconcileAlerts
 * (alert-reconcile.ts) reads the inputs and writes the outcome in one transaction.
 *
 * - new -> opened; notified (`firing`) unless silenced.
 * - still firing, never notified (it was silenced) and no longer silenced -> `firing`.
 * - worse than what was sent (a higher severity, or another rule: an expiring credential
 *   that expired) -> `escalated`, which clears an acknowledgement.
 * - notified at least its rule's repeat interval ago and not acknowledged -> `reminder`.
 * - gone -> resolved; `resolved` is sent only if anything had been sent.
 * - silenced -> recorded, and nothing is sent for it while the silence lasts.
 * A lower severity, or another summary, changes the alert without sending anything.
 */

export type AlertKind = 'escalated' | 'firing' | 'reminder' | 'resolved'

/** A rule without a repeat interval of its own repeats daily. */
export const DEFAULT_REPEAT_INTERVAL_MS = 86_400_000

export interface ChannelTarget {
  readonly minSeverity: Severity
  readonly name: string
}

/** An alert as the last reconcile left it: open, and firing. */
export interface OpenAlert {
  readonly acknowledgedAt: Date | null
  readonly fingerprint: string
  readonly id: number
  /** When it was last notified; null if it never was (silenced from the start). */
  readonly notifiedAt: Date | null
  /** The severity last notified. */
  readonly notifiedSeverity: Severity | null
  readonly rule: string
  readonly severity: Severity
  readonly startedAt: Date
  readonly summary: string
  readonly tenantId: string
  readonly workspaceId: string
}

export interface DecisionInput {
  /** What the rules find firing now. */
  readonly candidates: readonly AlertCandidate[]
  readonly channels: readonly ChannelTarget[]
  readonly now: Date
  readonly open: readonly OpenAlert[]
  /** By rule name. */
  readonly repeatIntervalMs: ReadonlyMap<string, number>
  readonly silences: readonly SilenceWindow[]
}

/** A new alert; notified (now, at its severity) unless silenced. */
export interface AlertInsert {
  readonly candidate: AlertCandidate
  readonly notified: boolean
}

export interface AlertUpdate {
  /** Escalation asks for attention again: it clears an acknowledgement. */
  readonly clearAcknowledgement: boolean
  readonly details: Record<string, unknown>
  readonly id: number
  readonly notifiedAt: Date | null
  readonly notifiedSeverity: Severity | null
  readonly rule: string
  readonly severity: Severity
  readonly summary: string
}

/** One notification, for each of `channels` (those whose minimum severity it reaches). */
export interface Notice {
  readonly channels: readonly string[]
  /** A new alert's index in `inserts`: its `alertId` is known once it is inserted. */
  readonly insert?: number
  /**
   * The message. For a resolve, `details`, `tenantName` and `workspace` are left to the
   * caller (read from the database for resolving alerts only), here `{}`, the tenant id and
   * the workspace id.
   */
  readonly message: AlertMessage
}

export interface Decisions {
  readonly counts: {
    readonly escalated: number
    /** The highest severity firing and not silenced, for --fail-on. */
    readonly highestFiring: Severity | null
    readonly new: number
    readonly reminded: number
    readonly resolved: number
    /** Firing alerts muted by a silence. */
    readonly silenced: number
  }
  readonly inserts: readonly AlertInsert[]
  /** In order: changes to open alerts, then resolves, then new alerts. */
  readonly notices: readonly Notice[]
  /** Open alerts the rules no longer find. */
  readonly resolve: readonly OpenAlert[]
  readonly updates: readonly AlertUpdate[]
}

/** Worse than what was sent: a higher severity, or another rule (an expiring credential expired). */
function isWorse(current: OpenAlert, candidate: AlertCandidate): boolean {
  return current.notifiedSeverity === null || severityRank(candidate.severity) > severityRank(current.notifiedSeverity) || candidate.rule !== current.rule
}

/** What, if anything, to send about an alert that was firing and still is. */
function kindFor(current: OpenAlert, candidate: AlertCandidate, muted: boolean, repeatIntervalMs: number, now: Date): AlertKind | undefined {
  if (muted) return undefined
  if (current.notifiedAt === null) return 'firing'
  if (isWorse(current, candidate)) return 'escalated'
  if (!current.acknowledgedAt && now.getTime() - current.notifiedAt.getTime() >= repeatIntervalMs) return 'reminder'
  return undefined
}

export function decideAlerts(input: DecisionInput): Decisions {
  const {candidates, now} = input
  const openByFingerprint = new Map(input.open.map((alert) => [alert.fingerprint, alert]))
  const isSilenced = (alert: AlertCandidate): boolean => input.silences.some((silence) => silences(silence, alert, now))
  const to = (severity: Severity): string[] => input.channels.filter((channel) => severityRank(severity) >= severityRank(channel.minSeverity)).map((channel) => channel.name)

  const changes: Notice[] = []
  const inserts: AlertInsert[] = []
  const updates: AlertUpdate[] = []
  let escalated = 0
  let reminded = 0
  let silenced = 0
  let highestFiring: Severity | null = null

  for (const candidate of candidates) {
    const current = openByFingerprint.get(candidate.fingerprint)
    const muted = isSilenced(candidate)
    if (muted) silenced++
    else if (highestFiring === null || severityRank(candidate.severity) > severityRank(highestFiring)) highestFiring = candidate.severity
    if (!current) {
      inserts.push({candidate, notified: !muted})
      continue
    }

    openByFingerprint.delete(candidate.fingerprint)
    const kind = kindFor(current, candidate, muted, input.repeatIntervalMs.get(current.rule) ?? DEFAULT_REPEAT_INTERVAL_MS, now)
    if (kind === 'escalated') escalated++
    if (kind === 'reminder') reminded++
    if (kind) {
      changes.push({
        channels: to(candidate.severity),
        message: {
          alertId: current.id,
          details: candidate.details,
          ...(kind === 'escalated' && current.notifiedSeverity ? {escalatedFrom: current.notifiedSeverity} : {}),
          fingerprint: current.fingerprint,
          kind,
          rule: candidate.rule,
          severity: candidate.severity,
          startedAt: current.startedAt.toISOString(),
          summary: candidate.summary,
          tenantId: current.tenantId,
          tenantName: candidate.tenantName,
          workspace: candidate.workspace,
        },
      })
    }

    const changed = kind !== undefined || candidate.severity !== current.severity || candidate.summary !== current.summary || candidate.rule !== current.rule
    if (changed) {
      updates.push({
        clearAcknowledgement: kind === 'escalated',
        details: candidate.details,
        id: current.id,
        notifiedAt: kind ? now : current.notifiedAt,
        notifiedSeverity: kind ? candidate.severity : current.notifiedSeverity,
        rule: candidate.rule,
        severity: candidate.severity,
        summary: candidate.summary,
      })
    }
  }

  // Whatever is still open is no longer true. Its resolve goes at the severity last sent.
  const resolve = [...openByFingerprint.values()]
  const resolves: Notice[] = resolve
    .filter((alert) => alert.notifiedAt !== null)
    .map((alert) => {
      const severity = alert.notifiedSeverity ?? alert.severity
      return {
        channels: to(severity),
        message: {
          alertId: alert.id,
          details: {},
          fingerprint: alert.fingerprint,
          kind: 'resolved',
          rule: alert.rule,
          severity,
          startedAt: alert.startedAt.toISOString(),
          summary: alert.summary,
          tenantId: alert.tenantId,
          tenantName: alert.tenantId,
          workspace: alert.workspaceId,
        },
      }
    })

  const opened: Notice[] = []
  for (const [index, {candidate, notified}] of inserts.entries()) {
    if (!notified) continue
    opened.push({
      channels: to(candidate.severity),
      insert: index,
      message: {
        alertId: null,
        details: candidate.details,
        fingerprint: candidate.fingerprint,
        kind: 'firing',
        rule: candidate.rule,
        severity: candidate.severity,
        startedAt: now.toISOString(),
        summary: candidate.summary,
        tenantId: candidate.tenantId,
        tenantName: candidate.tenantName,
        workspace: candidate.workspace,
      },
    })
  }

  return {
    counts: {escalated, highestFiring, new: inserts.length, reminded, resolved: resolve.length, silenced},
    inserts,
    notices: [...changes, ...resolves, ...opened],
    resolve,
    updates,
  }
}
