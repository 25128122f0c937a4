import {createHash} from 'node:crypto'

/** How alerts name what they are about, shared by every rule (alert-evaluation.ts, alert-verification-rules.ts). */

const SERVICE_NAMES: Record<string, string> = {gmc: 'Merchant Center', google: 'Google', shopify: 'Shopify'}

/** Stable across runs and episodes: the same thing going wrong has the same fingerprint. */
export function alertFingerprint(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)
}

/** `Shopify credential`, `Google credential "backup"`. */
export function credentialName(service: string, label: string): string {
  return `${SERVICE_NAMES[service] ?? service} credential${label === 'default' ? '' : ` "${label}"`}`
}
