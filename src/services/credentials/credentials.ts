import {sql} from 'kysely'

import {fingerprint, seal, unseal} from '../../crypto/envelope.js'
import type {Keyring} from '../../crypto/keyring.js'
import type {CredentialRow, CredentialService, Db} from '../../db/schema.js'
import {ConflictError, InvalidInputError, NotFoundError} from '../../errors/input-errors.js'
import {type Audit, recordEvents} from '../events/events.js'
import type {Workspace} from '../workspaces/workspaces.js'
import {lockTenant} from '../tenants/tenants.js'
import {recordTenantActivity} from '../tenants/tenant-activity.js'
import {credentialStatus, type CredentialStatus, daysLeft, timeLeft} from './credential-expiry.js'

// Also here: the status is part of what a credential is.
export {credentialStatus, type CredentialStatus} from './credential-expiry.js'

/**
 * Tenants' API credentials: sealed at rest (src/crypto/envelope.ts), bound to their row by
 * the additional authenticated data, versioned by rotation, with expiry dates. Values enter
 * through `set` and `rotate` and leave only through `get` with `reveal`, which is audited.
 * Nothing here ever puts a value in an event, an error or a result other than that one.
 */

export const CREDENTIAL_SERVICES = ['shopify', 'google', 'gmc'] as const satisfies readonly CredentialService[]
export const DEFAULT_LABEL = 'default'
export const MAX_SECRET_BYTES = 64 * 1024
/** What a label may be: 1-64 letters, digits, ".", "_" or "-". */
export const LABEL = /^[\w.-]{1,64}$/
export const LABEL_RULE = 'must be 1-64 letters, digits, ".", "_" or "-"'

export interface CredentialRef {
  readonly label?: string
  readonly service: CredentialService
  readonly tenantId: string
}

export interface Credential {
  readonly createdAt: Date
  /** Days until expiry, to the nearest whole day (negative once expired); null without an expiry date. */
  readonly daysLeft: number | null
  readonly expiresAt: Date | null
  readonly fingerprint: string
  readonly keyId: string
  readonly label: string
  readonly revokedAt: Date | null
  readonly rotatedAt: Date | null
  readonly service: CredentialService
  readonly status: CredentialStatus
  readonly tenantId: string
  /** The time left as said: `90 days`, `47 hours`, `expired`; null without an expiry date. */
  readonly timeLeft: null | string
  readonly version: number
  readonly workspace: string
}

export interface CredentialInput {
  readonly expiresAt?: Date | null
  readonly value: string
}

export interface CredentialPage {
  readonly credentials: Credential[]
  readonly nextCursor: string | null
  readonly workspace: string
}

export interface CredentialQuery {
  readonly after?: string
  /** Include rotated and revoked versions. */
  readonly all?: boolean
  /** Only active credentials expiring within this many milliseconds (expired ones included). */
  readonly expiringWithinMs?: number
  readonly limit: number
  readonly now?: Date
  readonly service?: CredentialService
  readonly tenantId?: string
}

export interface RekeyFailure {
  readonly label: string
  readonly reason: string
  readonly service: CredentialService
  readonly tenantId: string
  readonly version: number
  readonly workspace: string
}

export interface RekeyResult {
  readonly activeKey: string
  readonly dryRun: boolean
  readonly failed: RekeyFailure[]
  /** Credentials moved to the active key, by the key they were under. */
  readonly fromKeys: Record<string, number>
  readonly moved: number
  /** Still not under the active key afterwards, counted at the end (all of them on a dry run). */
  readonly remaining: number
}

interface Located extends CredentialRow {
  readonly tenant_key: string
  readonly workspace_id: string
  readonly workspace_slug: string
}

/** What a sealed value is bound to; a ciphertext moved to another row fails to open. */
export function credentialAad(row: {label: string; service: string; tenant_id: string; workspace_id: string}): string {
  return `synthex:credential:v1|workspace=${row.workspace_id}|tenant=${row.tenant_id}|service=${row.service}|label=${row.label}`
}

/** How errors name a credential: "tenant acme-us, service shopify" (label only when not the default). */
export function describeCredential(ref: {label?: string; service: string; tenantId: string}): string {
  const label = ref.label && ref.label !== DEFAULT_LABEL ? `, label ${ref.label}` : ''
  return `tenant ${ref.tenantId}, service ${ref.service}${label}`
}

function toCredential(row: Located, now: Date): Credential {
  return {
    createdAt: row.created_at,
    daysLeft: row.expires_at ? daysLeft(row.expires_at, now) : null,
    timeLeft: row.expires_at ? timeLeft(row.expires_at, now) : null,
    expiresAt: row.expires_at,
    fingerprint: row.fingerprint,
    keyId: row.key_id,
    label: row.label,
    revokedAt: row.revoked_at,
    rotatedAt: row.rotated_at,
    service: row.service,
    status: credentialStatus(row, now),
    tenantId: row.tenant_key,
    version: row.version,
    workspace: row.workspace_slug,
  }
}

/** A row just written, with the tenant and workspace the caller already knows. */
function locatedIn(row: CredentialRow, workspace: Workspace, ref: CredentialRef): Located {
  return {...row, tenant_key: ref.tenantId, workspace_id: workspace.id, workspace_slug: workspace.slug}
}

function located(db: Db) {
  return db
    .selectFrom('credentials')
    .innerJoin('tenants', 'tenants.id', 'credentials.tenant_id')
    .innerJoin('workspaces', 'workspaces.id', 'tenants.workspace_id')
    .selectAll('credentials')
    .select(['tenants.tenant_id as tenant_key', 'tenants.workspace_id as workspace_id', 'workspaces.slug as workspace_slug'])
}

function checkRef(ref: CredentialRef): {label: string} {
  const label = ref.label ?? DEFAULT_LABEL
  if (!LABEL.test(label)) throw new InvalidInputError([{field: 'label', message: LABEL_RULE}])
  return {label}
}

function checkInput(input: CredentialInput, now: Date): void {
  const issues = []
  if (input.value.length === 0) issues.push({field: 'value', message: 'is empty'})
  if (Buffer.byteLength(input.value, 'utf8') > MAX_SECRET_BYTES) issues.push({field: 'value', message: `is larger than ${MAX_SECRET_BYTES / 1024} KiB`})
  if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) issues.push({field: 'expires', message: `is in the past (${input.expiresAt.toISOString()})`})
  if (issues.length > 0) throw new InvalidInputError(issues)
}

async function activeRow(db: Db, workspace: Workspace, ref: CredentialRef, label: string): Promise<Located | undefined> {
  return located(db)
    .where('tenants.workspace_id', '=', workspace.id)
    .where('tenants.tenant_id', '=', ref.tenantId)
    .where('credentials.service', '=', ref.service)
    .where('credentials.label', '=', label)
    .where('credentials.rotated_at', 'is', null)
    .where('credentials.revoked_at', 'is', null)
    .executeTakeFirst()
}

function noCredential(workspace: Workspace, ref: CredentialRef, label: string): NotFoundError {
  const labelFlag = label === DEFAULT_LABEL ? '' : ` --label ${label}`
  return new NotFoundError(
    `There is no active credential for ${describeCredential({...ref, label})} in workspace "${workspace.slug}".`,
    `Store one with \`synthex credentials set ${ref.tenantId} --service ${ref.service}${labelFlag} --value-stdin\`.`,
    {label, service: ref.service, tenantId: ref.tenantId, workspace: workspace.slug},
  )
}

async function insertVersion(trx: Db, keyring: Keyring, workspace: Workspace, tenant: {id: string}, ref: CredentialRef, label: string, input: CredentialInput): Promise<CredentialRow> {
  const latest = await trx
    .selectFrom('credentials')
    .select((eb) => eb.fn.max('version').as('version'))
    .where('tenant_id', '=', tenant.id)
    .where('service', '=', ref.service)
    .where('label', '=', label)
    .executeTakeFirst()
  const sealed = seal(keyring, input.value, credentialAad({label, service: ref.service, tenant_id: tenant.id, workspace_id: workspace.id}))
  return trx
    .insertInto('credentials')
    .values({
      ciphertext: sealed.value,
      expires_at: input.expiresAt ?? null,
      fingerprint: fingerprint(keyring, input.value),
      key_id: sealed.keyId,
      label,
      service: ref.service,
      tenant_id: tenant.id,
      version: Number(latest?.version ?? 0) + 1,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export function eventData(row: CredentialRow, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {expiresAt: row.expires_at, fingerprint: row.fingerprint, keyId: row.key_id, label: row.label, service: row.service, version: row.version, ...extra}
}

/** Stores a tenant's first (or next, after a revoke) credential for a service and label. */
export async function setCredential(db: Db, keyring: Keyring, workspace: Workspace, audit: Audit, ref: CredentialRef, input: CredentialInput, now = new Date()): Promise<Credential> {
  const {label} = checkRef(ref)
  checkInput(input, now)
  return db.transaction().execute(async (trx) => {
    const tenant = await lockTenant(trx, workspace, ref.tenantId)
    const active = await activeRow(trx, workspace, ref, label)
    if (active) {
      throw new ConflictError(
        `${capitalise(describeCredential({...ref, label}))} already has a credential (version ${active.version}, fingerprint ${active.fingerprint}).`,
        `Replace it with \`synthex credentials rotate ${ref.tenantId} --service ${ref.service}${label === DEFAULT_LABEL ? '' : ` --label ${label}`} --value-stdin\`.`,
      )
    }

    const row = await insertVersion(trx, keyring, workspace, tenant, ref, label, input)
    await recordTenantActivity(trx, tenant.id, now)
    await recordEvents(trx, audit, [{aggregateId: ref.tenantId, aggregateType: 'tenant', data: eventData(row), type: 'credential.set', workspaceId: workspace.id}])
    return toCredential(locatedIn(row, workspace, ref), now)
  })
}

/** Replaces the active credential by a new version; the old one is kept, marked rotated. */
export async function rotateCredential(
  db: Db,
  keyring: Keyring,
  workspace: Workspace,
  audit: Audit,
  ref: CredentialRef,
  input: CredentialInput,
  now = new Date(),
): Promise<{current: Credential; previous: Credential}> {
  const {label} = checkRef(ref)
  checkInput(input, now)
  return db.transaction().execute(async (trx) => {
    const tenant = await lockTenant(trx, workspace, ref.tenantId)
    const active = await activeRow(trx, workspace, ref, label)
    if (!active) throw noCredential(workspace, ref, label)
    const rotated = await trx.updateTable('credentials').set({rotated_at: now}).where('id', '=', active.id).returningAll().executeTakeFirstOrThrow()
    const row = await insertVersion(trx, keyring, workspace, tenant, ref, label, input)
    await recordTenantActivity(trx, tenant.id, now)
    await recordEvents(trx, audit, [
      {aggregateId: ref.tenantId, aggregateType: 'tenant', data: eventData(row, {previousFingerprint: active.fingerprint, previousVersion: active.version}), type: 'credential.rotated', workspaceId: workspace.id},
    ])
    return {current: toCredential(locatedIn(row, workspace, ref), now), previous: toCredential(locatedIn(rotated, workspace, ref), now)}
  })
}

/** Marks the active credential revoked: it stays for the audit but is no longer active. */
export async function revokeCredential(db: Db, workspace: Workspace, audit: Audit, ref: CredentialRef, now = new Date()): Promise<Credential> {
  const {label} = checkRef(ref)
  return db.transaction().execute(async (trx) => {
    await lockTenant(trx, workspace, ref.tenantId)
    const active = await activeRow(trx, workspace, ref, label)
    if (!active) throw noCredential(workspace, ref, label)
    const row = await trx.updateTable('credentials').set({revoked_at: now}).where('id', '=', active.id).returningAll().executeTakeFirstOrThrow()
    await recordEvents(trx, audit, [{aggregateId: ref.tenantId, aggregateType: 'tenant', data: eventData(row), type: 'credential.revoked', workspaceId: workspace.id}])
    return toCredential(locatedIn(row, workspace, ref), now)
  })
}

/**
 * The active credential's metadata, and with `reveal` its value. Revealing is written to
 * the audit trail before the value is returned, in the same transaction.
 */
export async function getCredential(
  db: Db,
  workspace: Workspace,
  ref: CredentialRef,
  options: {audit?: Audit; keyring?: Keyring; now?: Date; reveal?: boolean} = {},
): Promise<{credential: Credential; value?: string}> {
  const {label} = checkRef(ref)
  const now = options.now ?? new Date()
  if (!options.reveal) {
    const row = await activeRow(db, workspace, ref, label)
    if (!row) throw noCredential(workspace, ref, label)
    return {credential: toCredential(row, now)}
  }

  return db.transaction().execute(async (trx) => {
    const row = await activeRow(trx, workspace, ref, label)
    if (!row) throw noCredential(workspace, ref, label)
    if (!options.keyring || !options.audit) throw new Error('revealing a credential needs a keyring and an audit context')
    const value = unseal(options.keyring, row.ciphertext, credentialAad(row), describeCredential({...ref, label}))
    await recordEvents(trx, options.audit, [{aggregateId: ref.tenantId, aggregateType: 'tenant', data: eventData(row), type: 'credential.revealed', workspaceId: workspace.id}])
    return {credential: toCredential(row, now), value}
  })
}

/** Cursor of credential listings: the last row's (tenant id, service, label, version). */
function encodeCursor(credential: Credential): string {
  return Buffer.from(JSON.stringify([credential.tenantId, credential.service, credential.label, credential.version])).toString('base64url')
}

function decodeCursor(cursor: string): [string, string, string, number] {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(parsed) && parsed.length === 4 && typeof parsed[3] === 'number') return parsed as [string, string, string, number]
  } catch {
    // fall through
  }

  throw new InvalidInputError([{field: 'after', message: 'is not a cursor returned by a previous page (nextCursor)'}])
}

export async function listCredentials(db: Db, workspace: Workspace, query: CredentialQuery): Promise<CredentialPage> {
  const now = query.now ?? new Date()
  let select = located(db).where('tenants.workspace_id', '=', workspace.id)
  if (query.tenantId) select = select.where('tenants.tenant_id', '=', query.tenantId)
  if (query.service) select = select.where('credentials.service', '=', query.service)
  if (!query.all || query.expiringWithinMs !== undefined) select = select.where('credentials.rotated_at', 'is', null).where('credentials.revoked_at', 'is', null)
  if (query.expiringWithinMs !== undefined) select = select.where('credentials.expires_at', '<=', new Date(now.getTime() + query.expiringWithinMs))
  if (query.after) {
    const [tenantId, service, label, version] = decodeCursor(query.after)
    select = select.where(sql<boolean>`(tenants.tenant_id, credentials.service, credentials.label, credentials.version) > (${tenantId}, ${service}, ${label}, ${version})`)
  }

  const rows = await select
    .orderBy('tenants.tenant_id')
    .orderBy('credentials.service')
    .orderBy('credentials.label')
    .orderBy('credentials.version')
    .limit(query.limit + 1)
    .execute()
  const credentials = rows.slice(0, query.limit).map((row) => toCredential(row, now))
  const last = credentials.at(-1)
  return {credentials, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null, workspace: workspace.slug}
}

/**
 * The fleet-wide expiry report: active credentials expiring within `withinMs` (expired ones
 * first, then soonest), across all workspaces unless one is given.
 */
export async function expiringCredentials(
  db: Db,
  options: {limit: number; now?: Date; withinMs: number; workspace?: Workspace},
): Promise<{credentials: Credential[]; truncated: boolean}> {
  const now = options.now ?? new Date()
  let select = located(db)
    .where('credentials.rotated_at', 'is', null)
    .where('credentials.revoked_at', 'is', null)
    .where('credentials.expires_at', '<=', new Date(now.getTime() + options.withinMs))
  if (options.workspace) select = select.where('tenants.workspace_id', '=', options.workspace.id)
  const rows = await select.orderBy('credentials.expires_at').orderBy('tenants.tenant_id').limit(options.limit + 1).execute()
  return {credentials: rows.slice(0, options.limit).map((row) => toCredential(row, now)), truncated: rows.length > options.limit}
}

/**
 * Re-encrypts every credential (all versions) that is not under the active key, a batch per
 * transaction: interrupted, it loses nothing, and run again it carries on with what is left.
 * A value that does not open (unknown key, tampered row) is reported and left as it is.
 */
export async function rekeyCredentials(
  db: Db,
  keyring: Keyring,
  audit: Audit,
  options: {batchSize?: number; dryRun?: boolean; onProgress?: (moved: number) => void} = {},
): Promise<RekeyResult> {
  const active = keyring.active
  if (!active) throw new InvalidInputError([{field: 'SYNTHEX_ENCRYPTION_KEY', message: 'is not set: there is no key to move the credentials to'}])
  const pending = () => db.selectFrom('credentials').where('key_id', '<>', active.id)
  if (options.dryRun) {
    const rows = await pending().select(['key_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('key_id').execute()
    const fromKeys = Object.fromEntries(rows.map((row) => [row.key_id, Number(row.n)]))
    const remaining = rows.reduce((sum, row) => sum + Number(row.n), 0)
    return {activeKey: active.id, dryRun: true, failed: [], fromKeys, moved: 0, remaining}
  }

  const batchSize = options.batchSize ?? 1000
  const failed: RekeyFailure[] = []
  const fromKeys: Record<string, number> = {}
  let moved = 0
  // Keyset paging: each batch starts after the last id seen, so moved (and unopenable) rows
  // are passed once, not re-read by every batch. A re-run starts over and skips what moved.
  let after: string | undefined
  // Rows locked by a concurrent rotate, or inserted meanwhile under an id already passed,
  // are missed by a pass: passes repeat until one moves nothing, and what is left is counted.
  let movedThisPass = 0
  for (let pass = 0; ; ) {
    const batch = await db.transaction().execute(async (trx) => {
      let select = located(trx).where('credentials.key_id', '<>', active.id)
      if (after !== undefined) select = select.where('credentials.id', '>', after)
      const rows = await select.orderBy('credentials.id').limit(batchSize).forUpdate('credentials').skipLocked().execute()
      after = rows.at(-1)?.id ?? after
      const updates: Array<{ciphertext: string; fingerprint: string; id: string}> = []
      const counts: Record<string, number> = {}
      for (const row of rows) {
        const subject = {label: row.label, service: row.service, tenantId: row.tenant_key}
        try {
          const value = unseal(keyring, row.ciphertext, credentialAad(row), describeCredential(subject))
          updates.push({ciphertext: seal(keyring, value, credentialAad(row)).value, fingerprint: fingerprint(keyring, value), id: row.id})
          counts[row.key_id] = (counts[row.key_id] ?? 0) + 1
        } catch (error) {
          failed.push({...subject, reason: (error as Error).message, version: row.version, workspace: row.workspace_slug})
        }
      }

      if (updates.length > 0) {
        await sql`
          update credentials set ciphertext = moved.ciphertext, fingerprint = moved.fingerprint, key_id = ${active.id}
          from unnest(${updates.map((update) => update.id)}::uuid[], ${updates.map((update) => update.ciphertext)}::text[], ${updates.map((update) => update.fingerprint)}::text[])
            as moved(id, ciphertext, fingerprint)
          where credentials.id = moved.id`.execute(trx)
        await recordEvents(trx, audit, [
          {aggregateId: active.id, aggregateType: 'keyring', data: {fromKeys: counts, moved: updates.length, toKey: active.id}, type: 'credentials.rekeyed', workspaceId: null},
        ])
      }

      return {counts, moved: updates.length, read: rows.length}
    })
    moved += batch.moved
    movedThisPass += batch.moved
    for (const [key, count] of Object.entries(batch.counts)) fromKeys[key] = (fromKeys[key] ?? 0) + count
    options.onProgress?.(moved)
    if (batch.read > 0) continue
    if (movedThisPass === 0 || ++pass >= 5) break
    after = undefined
    movedThisPass = 0
    failed.length = 0
  }

  const left = await pending().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return {activeKey: active.id, dryRun: false, failed, fromKeys, moved, remaining: Number(left.n)}
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
