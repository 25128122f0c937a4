import {ConfigError} from '../config/config-error.js'
import type {NetworkPolicy} from '../net/address-policy.js'
import {OutboundError} from '../net/outbound-error.js'
import {outboundRequest} from '../net/outbound-request.js'

/**
 * A dead-man's switch outside synthex (`alerts check-now --heartbeat-url`, or
 * SYNTHEX_HEARTBEAT_URL): after each run a healthchecks.io or Cronitor style URL is pinged
 * (GET), the URL itself after a successful run and the URL with `/fail` after a failed one,
 * so that a cron job that stopped running (or keeps failing) is noticed even when nothing
 * runs `health check`. The URL often carries its check's key: it is treated as a secret,
 * never printed, and errors say what happened, never where.
 */

export type HeartbeatOutcome = 'fail' | 'success'

export type HeartbeatResult = {readonly ok: false; readonly reason: string} | {readonly ok: true; readonly status: number}

/** The URL as given, checked to be one: a usage error naming `setting` (never the value) otherwise. */
export function heartbeatTarget(value: string, setting: string): URL {
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }

  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConfigError(setting, 'give the http(s) URL of a heartbeat check, such as https://hc-ping.com/<uuid> (the value is not repeated here)')
  }

  return url
}

/** Where an outcome is pinged: the URL, or the URL with `/fail` appended to its path (its query kept). */
export function heartbeatUrl(base: URL, outcome: HeartbeatOutcome): URL {
  const url = new URL(base)
  if (outcome === 'fail') url.pathname = `${url.pathname.replace(/\/+$/, '')}/fail`
  return url
}

/** Pings once; never throws. A 2xx is a success; anything else says why, without the URL. */
export async function pingHeartbeat(base: URL, outcome: HeartbeatOutcome, options: {policy: NetworkPolicy; signal?: AbortSignal; timeoutMs?: number}): Promise<HeartbeatResult> {
  try {
    const response = await outboundRequest(heartbeatUrl(base, outcome), {
      maxBodyBytes: 256,
      method: 'GET',
      policy: options.policy,
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? 10_000,
    })
    if (response.status >= 200 && response.status < 300) return {ok: true, status: response.status}
    const redirect = response.status >= 300 && response.status < 400 ? ' (a redirect, not followed)' : ''
    return {ok: false, reason: `HTTP ${response.status}${redirect}`}
  } catch (error) {
    // OutboundError messages never carry the URL or the host (outbound-error.ts).
    return {ok: false, reason: error instanceof OutboundError ? error.message : 'the request failed'}
  }
}
