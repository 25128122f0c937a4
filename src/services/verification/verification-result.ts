import type {VerificationOutcome} from '../../db/schema.js'

export type {VerificationOutcome} from '../../db/schema.js'

/** Every outcome, in the order reports list them (migrations/0013_credential_verification.sql). */
export const VERIFICATION_OUTCOMES: readonly VerificationOutcome[] = ['valid', 'scopes_missing', 'rejected', 'throttled', 'timeout', 'error']

/** The outcomes that mean the provider refuses the credential itself: credential_invalid. */
export const REJECTED_OUTCOMES: readonly VerificationOutcome[] = ['rejected']

/** The outcomes that count as failed calls for tenant_api_errors: the provider or the way to it failed, not the credential. */
export const FAILED_CALL_OUTCOMES: readonly VerificationOutcome[] = ['throttled', 'timeout', 'error']

/** What one credential's verification found: what is stored, never the credential. */
export interface VerificationResult {
  /** The provider's status of the deciding call; null when none came (timeout, network). */
  readonly httpStatus: null | number
  /** The whole verification, every call it made (token exchange included), in milliseconds. */
  readonly latencyMs: number
  /** The provider's error, scrubbed of anything secret and at most 500 characters; null when valid. */
  readonly message: null | string
  readonly outcome: VerificationOutcome
  /** Finer than the outcome: `ok`, `revoked_or_invalid`, `shop_frozen`, `forbidden`, `not_found`, `shop_locked`, `rate_limited`, `server_error`, `timeout`, `network`, `invalid_grant`, `invalid_client`, `unexpected_answer`, `malformed_credential`... */
  readonly reason: string
  /** Milliseconds the provider asked to wait (429 Retry-After), for the runner. */
  readonly retryAfterMs?: number
  /** What the provider says was granted; null when it could not be read. */
  readonly scopesGranted: null | readonly string[]
  readonly scopesMissing: readonly string[]
  readonly scopesRequired: readonly string[]
}

/** One credential to verify, as the runner hands it to a provider's verifier. */
export interface VerificationTarget {
  readonly credentialId: string
  readonly gmcMerchantId: null | string
  readonly label: string
  readonly service: 'gmc' | 'google' | 'shopify'
  readonly shopifyShop: null | string
  /** The tenant's id as people know it. */
  readonly tenantId: string
  /** tenants.id */
  readonly tenantUuid: string
  /** The opened credential. Goes to the provider and nowhere else. */
  readonly value: string
  readonly workspaceId: string
}

/** A stored verification, with the credential and run it belongs to. */
export interface RecordedVerification extends VerificationResult {
  readonly credentialId: string
  readonly service: string
  readonly tenantUuid: string
  readonly verifiedAt?: Date
}
