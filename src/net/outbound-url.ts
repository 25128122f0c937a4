import {isIP} from 'node:net'

import {addressRange, type NetworkPolicy, rangeAddress} from './address-policy.js'

/**
 * Checks a provider URL before anything is sent to it: http(s) only, https unless the policy
 * allows http, no user name or password (Node refuses such a URL and quotes it whole in its
 * error), and no literal IP address the policy refuses (a host name is checked once resolved:
 * see guarded-lookup.ts). Returns why it is refused, never quoting the URL: it may be the
 * secret (a Slack webhook URL). Undefined when it may be used.
 */
export function outboundUrlProblem(value: string | URL, policy: NetworkPolicy): string | undefined {
  let url: URL
  try {
    url = typeof value === 'string' ? new URL(value) : value
  } catch {
    return 'must be an https:// URL'
  }

  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https:// URL'
  if (url.username !== '' || url.password !== '') return 'must not hold a user name or password (user:password@)'
  if (url.protocol === 'http:' && !policy.allowHttp) return 'must be an https:// URL: plain http:// would send it unencrypted'
  return hostProblem(url.hostname, policy)
}

/** Why a host given as a literal IP address is refused (a name is judged once resolved). */
export function hostProblem(hostname: string, policy: NetworkPolicy): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, '')
  if (host === '') return 'must name a host'
  if (policy.allowPrivateNetwork || isIP(host) === 0) return undefined
  const range = addressRange(host)
  return range ? `points to ${rangeAddress(range)}, inside the network` : undefined
}
