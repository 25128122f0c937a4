import * as z from 'zod/mini'

import type {NetworkPolicy} from '../net/address-policy.js'

/**
 * The opt-outs of the outbound address policy (src/net/address-policy.ts) a channel may
 * carry with its non-secret settings: `alerts channels add --allow-http
 * --allow-private-network`, or SYNTHEX_ALLOW_HTTP / SYNTHEX_ALLOW_PRIVATE_NETWORK for the
 * channels the environment defines.
 */
export const networkOptions = {
  allowHttp: z.optional(z.boolean()),
  allowPrivateNetwork: z.optional(z.boolean()),
}

export function policyOf(config: {readonly allowHttp?: boolean; readonly allowPrivateNetwork?: boolean}): NetworkPolicy {
  return {allowHttp: config.allowHttp === true, allowPrivateNetwork: config.allowPrivateNetwork === true}
}
