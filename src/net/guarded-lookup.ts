import {lookup as dnsLookup, type LookupAddress} from 'node:dns'
import type {LookupFunction} from 'node:net'

import {addressRange, type NetworkPolicy} from './address-policy.js'
import {OutboundError} from './outbound-error.js'

/**
 * A `lookup` for http.request and net.connect that resolves the host and keeps only the
 * addresses the policy allows. Node connects to exactly what this returns, so the address
 * checked is the address connected to: a name that resolves to a public address when the
 * channel is added and to 169.254.169.254 later (DNS rebinding) is caught at the connection.
 * With no allowed address left, the connection fails with a permanent OutboundError naming
 * the address (never the host name or URL).
 */
export function guardedLookup(policy: NetworkPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, {...options, all: true}, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0)
      const allowed = policy.allowPrivateNetwork ? addresses : addresses.filter((entry) => addressRange(entry.address) === undefined)
      const first = allowed[0]
      if (!first) {
        const refused = addresses[0]
        const message = refused ? refusedMessage(refused.address) : 'the host has no address'
        return callback(new OutboundError(message, 'refused') as unknown as NodeJS.ErrnoException, '', 0)
      }

      if ((options as {all?: boolean}).all) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, allowed)
      else callback(null, first.address, first.family)
    })
  }
}

/** "address 169.254.169.254 is link-local/metadata; refused": the resolved IP may be shown, the URL never. */
export function refusedMessage(address: string): string {
  return `address ${address} is ${addressRange(address) ?? 'not allowed'}; refused`
}

/**
 * The first address a host name resolves to that the policy refuses, for checking a channel
 * when it is added. A name that does not resolve now is not refused: it is checked again,
 * address by address, whenever something is sent.
 */
export async function refusedAddressOf(hostname: string, policy: NetworkPolicy): Promise<{address: string; range: string} | undefined> {
  if (policy.allowPrivateNetwork) return undefined
  const addresses = await new Promise<LookupAddress[]>((resolve) => {
    dnsLookup(hostname.replace(/^\[|\]$/g, ''), {all: true}, (error, found) => resolve(error ? [] : found))
  })
  for (const {address} of addresses) {
    const range = addressRange(address)
    if (range) return {address, range}
  }

  return undefined
}
