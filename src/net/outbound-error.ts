/**
 * Why an outbound request got no answer. `refused`: synthex would not send it (the URL or
 * the address it resolves to is against the policy), so repeating it cannot help;
 * `timeout`, `network`: the other side may answer later; `interrupted`: the caller gave up.
 * Messages never carry the URL, a user name, a password or the host name: only what
 * happened, Node's error code, and at most the IP address refused.
 */
export type OutboundFailure = 'interrupted' | 'network' | 'refused' | 'timeout'

export class OutboundError extends Error {
  readonly reason: OutboundFailure

  constructor(message: string, reason: OutboundFailure) {
    super(message)
    this.name = 'OutboundError'
    this.reason = reason
  }

  /** Whether trying again later may work. */
  get retryable(): boolean {
    return this.reason !== 'refused'
  }
}

/**
 * A network error as a message that is safe to store and show: Node's and TLS's messages
 * quote host names, addresses with ports and certificate names, so only the error code is
 * kept (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, HPE_INVALID_CONSTANT...).
 */
export function networkError(error: unknown): OutboundError {
  if (error instanceof OutboundError) return error
  const code = (error as {code?: unknown})?.code
  const safe = typeof code === 'string' && /^[A-Z][\w]{1,60}$/.test(code) ? code : 'connection failed'
  return new OutboundError(`network error: ${safe}`, 'network')
}
