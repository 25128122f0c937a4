import type {ProviderEnvironment} from '../../config/environment.js'
import type {NetworkSettings} from '../../config/settings.js'
import type {VerificationResult, VerificationTarget} from './verification-result.js'

/** What every provider's verifier is given besides the credential. */
export interface VerifyOptions {
  /** Where to call and what is required (SYNTHEX_SHOPIFY_API_URL...). */
  readonly endpoints: ProviderEnvironment
  /** SYNTHEX_ALLOW_HTTP / SYNTHEX_ALLOW_PRIVATE_NETWORK, for stand-ins on 127.0.0.1. */
  readonly network: NetworkSettings
  /** Aborted when the run is interrupted. */
  readonly signal?: AbortSignal
  /** Per request (each call of a verification has its own). */
  readonly timeoutMs: number
}

/**
 * Calls the provider with one credential, read-only, and says what it answered. Never
 * throws for what a provider or the network does: every answer is a result. Never puts the
 * credential, or a token obtained with it, in a result, an error or a log.
 */
export type Verifier = (target: VerificationTarget, options: VerifyOptions) => Promise<VerificationResult>

/** The verifier of a service, loaded only when a run needs it. */
export async function verifierFor(service: VerificationTarget['service']): Promise<Verifier> {
  if (service === 'shopify') return (await import('./shopify-verifier.js')).verifyShopify
  return (await import('./google-verifier.js')).verifyGoogle
}
