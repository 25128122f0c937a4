import type {DogStatsdTarget} from '../../config/environment.js'
import type {DogStatsdEvent} from '../../exporters/dogstatsd-client.js'
import {credentialName} from './alert-naming.js'
import type {CredentialExpiryEvent} from '../webhooks/alert-events.js'

/**
 * Datadog events for expiring credentials, beside the DogStatsD metrics: one event when a
 * credential alert fires or escalates in a run of `alerts check-now` (not on every run:
 * an event is news), `warning` at the rule's warning threshold (7 days unless set),
 * `error` at its critical one (1 day) and once expired. An info-level expiry (30 days) is
 * not one. The aggregation key is the alert's fingerprint, so Datadog groups a credential's
 * events (warning, then error, then expired) into one. A run that would send more than
 * MAX_EVENTS (a fleet's keys issued on the same day) sends the first ones and one event
 * counting the rest: an event stream is read by people.
 */

export const MAX_EVENTS = 50

export function expiryEvents(credentials: readonly CredentialExpiryEvent[], now: Date): DogStatsdEvent[] {
  const events: DogStatsdEvent[] = []
  for (const credential of credentials) {
    const expired = credential.rule === 'credential_expired'
    const alertType = expired || credential.severity === 'critical' ? 'error' : credential.severity === 'warning' ? 'warning' : undefined
    if (!alertType) continue
    const what = credentialName(credential.service, credential.label)
    events.push({
      aggregationKey: credential.fingerprint,
      alertType,
      tags: {label: credential.label, rule: credential.rule, service: credential.service, severity: credential.severity, tenant: credential.tenantId, workspace: credential.workspace},
      text: [
        credential.summary,
        `${expired ? 'Expired' : 'Expires'} at ${credential.expiresAt} (${credential.daysLeft} day${Math.abs(credential.daysLeft) === 1 ? '' : 's'} left${credential.withinDays === undefined ? '' : `, within ${credential.withinDays}`}).`,
        `Tenant ${credential.tenantId} (${credential.tenantName}), workspace ${credential.workspace}. Rotate it: synthex credentials rotate ${credential.tenantId} --service ${credential.service}${credential.label === 'default' ? '' : ` --label ${credential.label}`}`,
      ].join('\n'),
      time: now,
      title: `${what} of ${credential.tenantId} ${expired ? 'expired' : 'expiring'}`,
    })
  }

  if (events.length <= MAX_EVENTS) return events
  const rest = events.slice(MAX_EVENTS - 1)
  return [
    ...events.slice(0, MAX_EVENTS - 1),
    {
      aggregationKey: 'synthex-credential-expiry',
      alertType: rest.some((event) => event.alertType === 'error') ? 'error' : 'warning',
      tags: {rule: 'credential_expiring'},
      text: `${rest.length} more credentials expiring or expired in this run of synthex alerts check-now.\nSee synthex credentials expiring.`,
      time: now,
      title: `${rest.length} more credentials expiring or expired`,
    },
  ]
}

/** Sends them to the agent (fire and forget, as the metrics: an agent that is down never fails the run). */
export async function sendExpiryEvents(target: DogStatsdTarget, credentials: readonly CredentialExpiryEvent[], now: Date): Promise<void> {
  const events = expiryEvents(credentials, now)
  if (events.length === 0) return
  const {eventDatagram, sendDatagrams} = await import('../../exporters/dogstatsd-client.js')
  await sendDatagrams(target, events.map((event) => eventDatagram(event)), 250)
}
