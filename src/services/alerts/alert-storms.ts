import type {AlertMessage} from '../../notifiers/notifier.js'
import {alertFingerprint} from './alert-naming.js'

/**
 * The storm guard, pure. When one run calls for more than `threshold` notifications of the
 * same rule, severity and kind (a fleet-wide condition, a threshold changed, a clock jump),
 * they are sent as ONE digest per channel, with the count and the first few alerts, instead
 * of one notification each: no rule may turn a quiet fleet into thousands of pages. The
 * alerts themselves are recorded one by one as ever; the digest's outbox rows say which
 * alerts they cover, so `alerts list` knows each was notified once the digest is sent.
 *
 * A digest's fingerprint (PagerDuty's dedup_key) is its rule and severity: a later storm of
 * reminders updates the same incident, and a storm of resolves closes it.
 */

/** A run may send this many notifications of one rule, severity and kind one by one. */
export const DEFAULT_STORM_THRESHOLD = 20
/** How many of a storm's alerts its digest names. */
export const STORM_SAMPLE = 5

/** A notification decided by a reconcile, its alert known, for the channels listed. */
export interface PlannedNotice {
  readonly channels: readonly string[]
  readonly message: AlertMessage
}

/** A notice as queued: one alert, or a digest covering `alertIds`. */
export interface QueuedNotice extends PlannedNotice {
  /** For a digest: the alerts it covers. */
  readonly covers?: readonly number[]
}

const keyOf = (message: AlertMessage): string => `${message.rule}\u0000${message.severity}\u0000${message.kind}`

export function groupStorms(notices: readonly PlannedNotice[], threshold: number, now: Date): QueuedNotice[] {
  const groups = new Map<string, PlannedNotice[]>()
  for (const notice of notices) {
    if (notice.message.kind === 'test') continue
    const key = keyOf(notice.message)
    const members = groups.get(key)
    if (members) members.push(notice)
    else groups.set(key, [notice])
  }

  const storms = new Map([...groups].filter(([, members]) => members.length > threshold))
  if (storms.size === 0) return [...notices]
  const queued: QueuedNotice[] = []
  for (const notice of notices) {
    const key = keyOf(notice.message)
    const members = storms.get(key)
    if (!members) {
      queued.push(notice)
      continue
    }

    // The digest takes the place of the storm's first notice; the others are left out.
    if (members[0] === notice) queued.push(digestOf(members, now))
  }

  return queued
}

function digestOf(members: readonly PlannedNotice[], now: Date): QueuedNotice {
  const first = (members[0] as PlannedNotice).message
  const channels = [...new Set(members.flatMap((member) => member.channels))]
  // The first few by workspace and tenant id, whatever order the rules found them in.
  const sample = members
    .map(({message}) => message)
    .sort((a, b) => a.workspace.localeCompare(b.workspace) || a.tenantId.localeCompare(b.tenantId, 'en', {numeric: true}))
    .slice(0, STORM_SAMPLE)
  const more = members.length - sample.length
  const workspaces = [...new Set(members.map(({message}) => message.workspace))]
  const names = sample.map((message) => `${message.tenantName} (${message.tenantId})`).join(', ')
  return {
    channels,
    covers: members.map(({message}) => message.alertId).filter((id): id is number => id !== null),
    message: {
      alertId: null,
      details: {
        alerts: sample.map((message) => ({summary: message.summary, tenantId: message.tenantId, tenantName: message.tenantName, workspace: message.workspace})),
        digestOf: members.length,
        // The storm's rule and severity are the same for all: so is the threshold they are within.
        ...(first.details.withinDays === undefined ? {} : {withinDays: first.details.withinDays}),
      },
      ...(first.escalatedFrom ? {escalatedFrom: first.escalatedFrom} : {}),
      fingerprint: alertFingerprint(['digest', first.rule, first.severity]),
      kind: first.kind,
      rule: first.rule,
      severity: first.severity,
      startedAt: now.toISOString(),
      summary: `${members.length.toLocaleString('en-US')} ${first.rule} alerts at once: ${names}${more > 0 ? ` and ${more.toLocaleString('en-US')} more` : ''} (synthex alerts list)`,
      tenantId: '*',
      tenantName: `${members.length.toLocaleString('en-US')} tenants`,
      workspace: workspaces.length === 1 ? (workspaces[0] as string) : `${workspaces.length} workspaces`,
    },
  }
}
