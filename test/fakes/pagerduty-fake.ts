import {type Answer, HttpFake, type Received} from './http-fake.js'

export interface PagerDutyEvent {
  dedup_key: string
  event_action: 'acknowledge' | 'resolve' | 'trigger'
  links?: Array<{href: string; text: string}>
  payload?: {custom_details?: Record<string, unknown>; severity: string; source: string; summary: string}
  routing_key: string
}

/**
 * PagerDuty Events API v2 (developer.pagerduty.com, "Send an Alert Event"): `202
 * {"status":"success","message":"Event processed","dedup_key":...}`; `400 {"status":"invalid
 * event","message":"Event object is invalid","errors":[...]}` for a bad event (a summary over
 * 1,024 characters, a missing source, an unknown severity); 429 and 5xx to be retried.
 */
export class PagerDutyFake extends HttpFake {
  static readonly ROUTING_KEY = 'R0UT1NGK3Y0123456789ABCDEF012345'

  get events(): PagerDutyEvent[] {
    return this.accepted.map((request) => request.json as PagerDutyEvent)
  }

  get eventsUrl(): string {
    return `${this.url}/v2/enqueue`
  }

  protected answer(request: Received): Answer {
    if (request.path !== '/v2/enqueue') return {body: '{"status":"not found"}', status: 404}
    const event = request.json as Partial<PagerDutyEvent> | undefined
    const errors: string[] = []
    if (!event || typeof event !== 'object') errors.push('Event object is not JSON')
    else {
      if (event.routing_key !== PagerDutyFake.ROUTING_KEY) errors.push('Invalid routing key')
      if (!['trigger', 'acknowledge', 'resolve'].includes(String(event.event_action))) errors.push("'event_action' is invalid")
      if (typeof event.dedup_key === 'string' && event.dedup_key.length > 255) errors.push("'dedup_key' must be at most 255 characters")
      if (event.event_action === 'trigger') {
        const payload = event.payload
        if (!payload?.summary) errors.push("'payload.summary' is missing")
        else if (payload.summary.length > 1024) errors.push("'payload.summary' must be at most 1024 characters")
        if (!payload?.source) errors.push("'payload.source' is missing")
        if (!['critical', 'error', 'warning', 'info'].includes(String(payload?.severity))) errors.push("'payload.severity' is invalid")
      }
    }

    if (errors.length > 0) {
      return {body: JSON.stringify({errors, message: 'Event object is invalid', status: 'invalid event'}), headers: {'content-type': 'application/json'}, status: 400}
    }

    return {
      body: JSON.stringify({dedup_key: event?.dedup_key, message: 'Event processed', status: 'success'}),
      headers: {'content-type': 'application/json'},
      status: 202,
    }
  }
}
