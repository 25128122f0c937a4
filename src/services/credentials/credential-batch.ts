import {sql} from 'kysely'

import {fingerprint, seal, unseal} from '../../crypto/envelope.js'
import type {Keyring} from '../../crypto/keyring.js'
import type {CredentialRow, Db} from '../../db/schema.js'
import {type Audit, type NewEvent, recordEvents} from '../events/events.js'
import type {Workspace} from '../workspaces/workspaces.js'
import {credentialAad, describeCredential, eventData} from './credentials.js'

/**
 * Many credentials set in one transaction, for `batch credentials set`: what `setCredential`
 * and `rotateCredential` do for one, with a handful of statements for the whole batch
 * instead of a handful per credential. Values are sealed exactly as theirs (same AAD, same
 * fingerprint), and each credential written gets the same audit event as a single `set` or
 * `rotate` would record. The tenants are locked (in id order, so two batches never
 * deadlock) as `lockTenant` does, so a concurrent single `set` queues behind the batch.
 */

/** What to do with a credential that already has another active value. */
export type CredentialConflict = 'fail' | 'rotate' | 'skip'

export interface BatchCredential {
  readonly expiresAt: Date | null
  /** The expiry is a date from the file; a relative one (`expires_in`) is not re-applied to an unchanged value. */
  readonly expiryIsDate: boolean
  readonly label: string
  readonly service: CredentialRow['service']
  readonly tenantId: string
  readonly value: string
}

export type BatchOutcome =
  | {readonly kind: 'created' | 'rotated' | 'skipped' | 'unchanged'}
  | {readonly column: string; readonly kind: 'rejected'; readonly reason: string}

interface Active {
  readonly ciphertext: string
  readonly expires_at: Date | null
  readonly fingerprint: string
  readonly id: string
  readonly key_id: string
  readonly label: string
  readonly service: string
  readonly tenant_id: string
  readonly version: number
}

const keyOf = (tenantUuid: string, service: string, label: string): string => `${tenantUuid}\u0000${service}\u0000${label}`

/** Writes `items` (no two with the same tenant, service and label) in `trx`; one outcome per item, in order. */
export async function setCredentialBatch(
  trx: Db,
  keyring: Keyring,
  workspace: Workspace,
  audit: Audit,
  items: readonly BatchCredential[],
  options: {now?: Date; onConflict: CredentialConflict},
): Promise<BatchOutcome[]> {
  const now = options.now ?? new Date()
  const ids = [...new Set(items.map((item) => item.tenantId))]
  const {rows: tenants} = await sql<{id: string; tenant_id: string}>`
    select id, tenant_id from tenants where workspace_id = ${workspace.id} and tenant_id = any(${ids}::text[]) order by id for update`.execute(trx)
  const uuidOf = new Map(tenants.map((tenant) => [tenant.tenant_id, tenant.id]))
  const uuids = tenants.map((tenant) => tenant.id)
  const {rows: actives} = await sql<Active>`
    select id, tenant_id, service, label, ciphertext, fingerprint, key_id, expires_at, version from credentials
    where tenant_id = any(${uuids}::uuid[]) and rotated_at is null and revoked_at is null`.execute(trx)
  const {rows: latest} = await sql<{label: string; service: string; tenant_id: string; version: number}>`
    select tenant_id, service, label, max(version)::int as version from credentials
    where tenant_id = any(${uuids}::uuid[]) group by tenant_id, service, label`.execute(trx)
  const activeOf = new Map(actives.map((row) => [keyOf(row.tenant_id, row.service, row.label), row]))
  const versionOf = new Map(latest.map((row) => [keyOf(row.tenant_id, row.service, row.label), Number(row.version)]))

  const outcomes: BatchOutcome[] = []
  const inserts: Array<{ciphertext: string; expiresAt: Date | null; fingerprint: string; keyId: string; label: string; service: string; tenant: string; version: number}> = []
  const rotatedIds: string[] = []
  const events: NewEvent[] = []
  for (const item of items) {
    const tenant = uuidOf.get(item.tenantId)
    if (!tenant) {
      outcomes.push({column: 'tenant_id', kind: 'rejected', reason: `tenant_id: tenant "${item.tenantId}" does not exist in workspace "${workspace.slug}"`})
      continue
    }

    const key = keyOf(tenant, item.service, item.label)
    const active = activeOf.get(key)
    const sealedFingerprint = fingerprint(keyring, item.value)
    if (active) {
      const same = sameValue(keyring, active, item, sealedFingerprint, workspace)
      const sameExpiry = !item.expiryIsDate || (active.expires_at?.getTime() ?? null) === (item.expiresAt?.getTime() ?? null)
      if (same && sameExpiry) {
        outcomes.push({kind: 'unchanged'})
        continue
      }

      if (options.onConflict === 'skip') {
        outcomes.push({kind: 'skipped'})
        continue
      }

      if (options.onConflict === 'fail') {
        const what = same ? 'the same value with another expiry' : 'another value'
        outcomes.push({
          column: 'value',
          kind: 'rejected',
          reason: `value: ${describeCredential(item)} already has a credential with ${what} (version ${active.version}, fingerprint ${active.fingerprint}); use --on-conflict rotate to replace it, or skip`,
        })
        continue
      }

      rotatedIds.push(active.id)
    }

    const version = (versionOf.get(key) ?? 0) + 1
    const sealed = seal(keyring, item.value, credentialAad({label: item.label, service: item.service, tenant_id: tenant, workspace_id: workspace.id}))
    inserts.push({ciphertext: sealed.value, expiresAt: item.expiresAt, fingerprint: sealedFingerprint, keyId: sealed.keyId, label: item.label, service: item.service, tenant, version})
    const row = {expires_at: item.expiresAt, fingerprint: sealedFingerprint, key_id: sealed.keyId, label: item.label, service: item.service, version} as CredentialRow
    events.push(
      active
        ? {aggregateId: item.tenantId, aggregateType: 'tenant', data: eventData(row, {batch: true, previousFingerprint: active.fingerprint, previousVersion: active.version}), type: 'credential.rotated', workspaceId: workspace.id}
        : {aggregateId: item.tenantId, aggregateType: 'tenant', data: eventData(row, {batch: true}), type: 'credential.set', workspaceId: workspace.id},
    )
    outcomes.push({kind: active ? 'rotated' : 'created'})
  }

  if (rotatedIds.length > 0) await sql`update credentials set rotated_at = ${now} where id = any(${rotatedIds}::uuid[])`.execute(trx)
  if (inserts.length > 0) {
    await sql`
      insert into credentials (tenant_id, service, label, version, ciphertext, fingerprint, key_id, expires_at)
      select * from unnest(
        ${inserts.map((row) => row.tenant)}::uuid[], ${inserts.map((row) => row.service)}::text[], ${inserts.map((row) => row.label)}::text[],
        ${inserts.map((row) => row.version)}::int[], ${inserts.map((row) => row.ciphertext)}::text[], ${inserts.map((row) => row.fingerprint)}::text[],
        ${inserts.map((row) => row.keyId)}::text[], ${inserts.map((row) => row.expiresAt?.toISOString() ?? null)}::timestamptz[]
      )`.execute(trx)
  }

  await recordEvents(trx, audit, events)
  return outcomes
}

/**
 * Whether the stored credential holds `item`'s value: by fingerprint when it was taken under
 * the active key, else by opening it (a credential not yet rekeyed).
 */
function sameValue(keyring: Keyring, active: Active, item: BatchCredential, itemFingerprint: string, workspace: Workspace): boolean {
  if (active.key_id === keyring.active?.id) return active.fingerprint === itemFingerprint
  try {
    return unseal(keyring, active.ciphertext, credentialAad({...active, workspace_id: workspace.id}), describeCredential(item)) === item.value
  } catch {
    return false
  }
}
