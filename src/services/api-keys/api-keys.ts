import {createHash, randomBytes} from 'node:crypto'

import {sql} from 'kysely'

import {compiledOnce} from '../../db/compiled-once.js'
import type {ApiKeyRow, Db, UserRole} from '../../db/schema.js'
import {ConflictError, InvalidInputError, NotFoundError} from '../../errors/input-errors.js'
import {findUser} from '../users/users.js'
import {effectiveScopes} from '../access/roles.js'
import {narrowToWorkspace, REACH_ALL, type Reach, type ReachTenant} from '../access/reach.js'
import {type Audit, recordEvents} from '../events/events.js'
import {type ApiScope} from './scopes.js'

export {API_SCOPES, type ApiScope, parseScopes} from './scopes.js'
import {findWorkspace, type Workspace} from '../workspaces/workspaces.js'

/**
 * Keys look like `sxk_<30 base62 characters><6-character base62 CRC-32 of them>`, as GitHub's
 * tokens do: the prefix lets secret scanners recognise a leaked key, and the checksum lets
 * them (and synthex) tell a real key from a random string without a database lookup.
 */
export const KEY_PREFIX = 'sxk_'
const BODY_LENGTH = 30
const CHECKSUM_LENGTH = 6
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
/** How much of a key lists and logs show: the prefix and 6 characters, 36 bits of 178. */
const SHOWN = KEY_PREFIX.length + 6
const KEY_PATTERN = /^sxk_[0-9A-Za-z]{36}$/

export interface ApiKey {
  readonly createdAt: Date
  readonly createdBy: string
  readonly expiresAt: Date | null
  readonly lastUsedAt: Date | null
  /** Made without a user (before users existed): it acts as a superadmin. */
  readonly legacy: boolean
  readonly name: string
  /** The key's first characters, e.g. `sxk_4Fq9aZ`, to recognise it; never the key. */
  readonly prefix: string
  readonly revokedAt: Date | null
  /** Its user's role; `superadmin` for a key without a user. */
  readonly role: UserRole
  readonly scopes: readonly ApiScope[]
  /** The address of the user it acts for; null for a key made without one (a superadmin key). */
  readonly user: string | null
  /** The workspace it is limited to, or null for every workspace. */
  readonly workspace: string | null
}

/** The user a key acts for. */
export interface KeyUser {
  readonly email: string
  readonly id: string
}

/** A key that authenticated: who it is and what it may do. */
export interface ApiPrincipal {
  readonly id: string
  /** The key's own scopes, as made. */
  readonly keyScopes: ReadonlySet<ApiScope>
  readonly name: string
  readonly prefix: string
  /** What the key reaches: its user's reach, narrowed to the key's workspace if it has one. */
  readonly reach: Reach
  /** Its user's role; `superadmin` for a key made before users existed (user null). */
  readonly role: UserRole
  /** What it may do: its scopes within what its user's role allows (src/services/access/roles.ts). */
  readonly scopes: ReadonlySet<ApiScope>
  /** The user it acts for; null for a key made before users existed (a superadmin key). */
  readonly user: KeyUser | null
  /** The workspace the key is limited to (its slug), or null for every workspace. */
  readonly workspace: string | null
  readonly workspaceId: string | null
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/

function crc32(text: string): number {
  let crc = 0xffffffff
  for (let index = 0; index < text.length; index++) {
    crc ^= text.charCodeAt(index)
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }

  return (crc ^ 0xffffffff) >>> 0
}

function base62(value: number, length: number): string {
  let text = ''
  let rest = value
  for (let index = 0; index < length; index++) {
    text = (BASE62[rest % 62] as string) + text
    rest = Math.floor(rest / 62)
  }

  return text
}

function randomBase62(length: number): string {
  // Rejection sampling: 248 = 4 * 62, so every character is equally likely.
  let text = ''
  while (text.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && text.length < length) text += BASE62[byte % 62]
    }
  }

  return text
}

/** A new key: prefix, random body, checksum of the body. */
export function generateApiKey(): string {
  const body = randomBase62(BODY_LENGTH)
  return `${KEY_PREFIX}${body}${base62(crc32(body), CHECKSUM_LENGTH)}`
}

/** Whether a string has a key's shape and checksum (no database needed). */
export function isWellFormedApiKey(key: string): boolean {
  if (!KEY_PATTERN.test(key)) return false
  const body = key.slice(KEY_PREFIX.length, KEY_PREFIX.length + BODY_LENGTH)
  return key.slice(KEY_PREFIX.length + BODY_LENGTH) === base62(crc32(body), CHECKSUM_LENGTH)
}

function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest()
}

function toApiKey(row: ApiKeyRow & {user_email: null | string; user_role: null | UserRole; workspace_slug: null | string}): ApiKey {
  return {
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    legacy: row.user_email === null,
    name: row.name,
    prefix: row.prefix,
    revokedAt: row.revoked_at,
    role: row.user_role ?? 'superadmin',
    scopes: row.scopes as ApiScope[],
    user: row.user_email,
    workspace: row.workspace_slug,
  }
}

/** Keys with their workspace's slug and their user's address and role, as toApiKey takes them. */
function selectApiKeys(db: Db) {
  return db
    .selectFrom('api_keys')
    .leftJoin('workspaces', 'workspaces.id', 'api_keys.workspace_id')
    .leftJoin('users', 'users.id', 'api_keys.user_id')
    .selectAll('api_keys')
    .select(['workspaces.slug as workspace_slug', 'users.email as user_email', 'users.role as user_role'])
}

export interface NewApiKey {
  readonly expiresAt: Date | null
  readonly name: string
  readonly scopes: readonly ApiScope[]
  /** The address of the user the key acts for (an active user); undefined for a key that acts as a superadmin. */
  readonly user?: string
  /** Limit the key to one workspace (its slug); undefined for every workspace. */
  readonly workspace?: string
}

/** The active user a new key is to act for, by address whatever its case. */
async function keyUser(db: Db, email: string): Promise<{email: string; id: string; role: UserRole}> {
  const user = await findUser(db, email)
  if (user.deactivatedAt) {
    throw new ConflictError(`User "${user.email}" is deactivated: a key acting for it would be refused on every request.`, 'Make the key for an active user (see `synthex users list`).', {user: user.email})
  }

  return user
}

/** The error for a key name no key has (or, for serve, one outside the caller's reach: the same answer). */
export function apiKeyNotFound(name: string): NotFoundError {
  return new NotFoundError(`No API key is named "${name}".`, 'List them with `synthex api-keys list`.', {name})
}

/** Makes a key and returns it with the key itself, which is not stored and cannot be shown again. */
export async function createApiKey(db: Db, audit: Audit, input: NewApiKey): Promise<{apiKey: ApiKey; key: string}> {
  if (!NAME.test(input.name)) throw new InvalidInputError([{field: 'name', message: 'must be 1-63 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit'}])
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new InvalidInputError([{field: 'expires', message: 'must be in the future'}])
  const workspace = input.workspace === undefined ? undefined : await findWorkspace(db, input.workspace)
  const key = generateApiKey()
  return db.transaction().execute(async (trx) => {
    // Read in the transaction: a user deactivated meanwhile gets no new key.
    const user = input.user === undefined ? undefined : await keyUser(trx, input.user)
    const role: UserRole = user?.role ?? 'superadmin'
    const row = await trx
      .insertInto('api_keys')
      .values({created_by: audit.actor, expires_at: input.expiresAt, key_hash: hashKey(key), name: input.name, prefix: key.slice(0, SHOWN), scopes: [...input.scopes], user_id: user?.id ?? null, workspace_id: workspace?.id ?? null})
      .onConflict((conflict) => conflict.column('name').doNothing())
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new ConflictError(`An API key named "${input.name}" already exists.`, 'Pick another name, or revoke the old key first with `synthex api-keys revoke`.', {name: input.name})
    await recordEvents(trx, audit, [
      {
        aggregateId: row.name,
        aggregateType: 'api_key',
        data: {expiresAt: row.expires_at, name: row.name, prefix: row.prefix, role, scopes: row.scopes, user: user?.email ?? null, workspace: workspace?.slug ?? null},
        type: 'api_key.created',
        workspaceId: workspace?.id ?? null,
      },
    ])
    return {apiKey: toApiKey({...row, user_email: user?.email ?? null, user_role: user?.role ?? null, workspace_slug: workspace?.slug ?? null}), key}
  })
}

/** Keys by name; `userIds`: only the keys acting for these users (users.id). */
export async function listApiKeys(db: Db, filter: {userIds?: readonly string[]} = {}): Promise<ApiKey[]> {
  if (filter.userIds?.length === 0) return []
  let select = selectApiKeys(db)
  if (filter.userIds !== undefined) select = select.where('api_keys.user_id', 'in', [...filter.userIds])
  const rows = await select.orderBy('api_keys.name').execute()
  return rows.map((row) => toApiKey(row))
}

/** Revokes a key by name: the next request with it is refused. Revoking twice is not an error. */
export async function revokeApiKey(db: Db, audit: Audit, name: string): Promise<ApiKey> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('api_keys')
      .set({revoked_at: sql<Date>`coalesce(revoked_at, now())`})
      .where('name', '=', name)
      .returningAll()
      .executeTakeFirst()
    if (!row) throw apiKeyNotFound(name)
    await recordEvents(trx, audit, [{aggregateId: row.name, aggregateType: 'api_key', data: {name: row.name, prefix: row.prefix}, type: 'api_key.revoked', workspaceId: row.workspace_id}])
    return toApiKey(await selectApiKeys(trx).where('api_keys.id', '=', row.id).executeTakeFirstOrThrow())
  })
}

export type Authentication =
  | {readonly ok: false; readonly reason: 'malformed' | 'unknown'}
  | {
      /** A key that exists but may not be used: its name and user, for the audit trail. */
      readonly key: {readonly name: string; readonly role: UserRole; readonly user: KeyUser | null}
      readonly ok: false
      readonly reason: 'deactivated' | 'expired' | 'revoked'
    }
  | {
      readonly ok: true
      readonly principal: ApiPrincipal
      /** The workspace `options.workspace` names, read in the same query; null when no workspace has that slug. */
      readonly workspace: null | Workspace
    }

/** A request's key and the workspace it addresses (a slug), to authenticate. */
export interface KeyCheck {
  readonly key: string
  readonly workspace?: string
}

/**
 * The key of a request, checked on every request (no cache: a revoked key stops at once):
 * its shape and checksum first, then its hash in the database. `last_used_at` is written at
 * most once a minute per key, so a busy key costs no write per request. The workspace the
 * request addresses (`options.workspace`, a slug) is read in the same statement: one round
 * trip to the database instead of two for every request that reads a tenant.
 */
export async function authenticateApiKey(db: Db, key: string, options: {now?: Date; workspace?: string} = {}): Promise<Authentication> {
  const [result] = await authenticateApiKeys(db, [{key, workspace: options.workspace}], options.now)
  return result as Authentication
}

/**
 * The keys with these hashes, each beside every workspace asked for (a few: most requests
 * ask for the default one). Parameters, in the order they appear: the slugs asked for, the
 * keys' SHA-256 hashes in hex. Compiled once: it runs for nearly every request `serve` answers.
 */
const selectKeys = compiledOnce((db) =>
  db
    .selectFrom('api_keys')
    .leftJoin('workspaces', 'workspaces.id', 'api_keys.workspace_id')
    .leftJoin('users', 'users.id', 'api_keys.user_id')
    .leftJoin('workspaces as requested', (join) => join.on('requested.slug', '=', sql<string>`any(${[]}::text[])`))
    .select(['api_keys.id', 'api_keys.key_hash', 'api_keys.name', 'api_keys.prefix', 'api_keys.scopes', 'api_keys.workspace_id', 'api_keys.revoked_at', 'api_keys.expires_at', 'api_keys.last_used_at', 'workspaces.slug'])
    .select(['users.id as user_id', 'users.email as user_email', 'users.role as user_role', 'users.deactivated_at as user_deactivated_at'])
    // The user's reach, in the same statement: an admin's workspaces, a client's tenants.
    .select([
      sql<null | string[]>`array(select uw.workspace_id::text from user_workspaces uw where uw.user_id = users.id)`.as('user_workspaces'),
      sql<null | string[]>`array(select t.id::text || '/' || t.workspace_id::text || '/' || t.tenant_id from user_tenants ut join tenants t on t.id = ut.tenant_id where ut.user_id = users.id)`.as('user_tenants'),
    ])
    .select(['requested.id as requested_id', 'requested.name as requested_name', 'requested.slug as requested_slug', 'requested.created_at as requested_created_at'])
    .where('api_keys.key_hash', '=', sql<Buffer>`any(array(select decode(hash, 'hex') from unnest(${[]}::text[]) as hash))`),
)

/** A user's reach from its role and assignments, as selectKeys reads them. */
function userReach(role: UserRole, workspaces: null | readonly string[], tenants: null | readonly string[]): Reach {
  if (role === 'superadmin') return REACH_ALL
  if (role === 'admin') return {kind: 'workspaces', workspaceIds: new Set(workspaces ?? [])}
  return {
    kind: 'tenants',
    tenants: (tenants ?? []).map((entry): ReachTenant => {
      // <tenants.id>/<workspace id>/<tenant id>: the ids are uuids, the tenant id has no "/".
      const [id, workspaceId, ...rest] = entry.split('/')
      return {id: id as string, tenantId: rest.join('/'), workspaceId: workspaceId as string}
    }),
  }
}

/**
 * Several requests' keys checked at once, in one statement (what `authenticateApiKey` does
 * for one): `serve` gathers the requests that arrive together, so that under load a request
 * costs one round trip to the database (its own work) rather than two. Each answer is as
 * fresh as the statement, which starts after every request it checks has arrived.
 */
export async function authenticateApiKeys(db: Db, checks: readonly KeyCheck[], now = new Date()): Promise<Authentication[]> {
  const hashes = new Map<string, Buffer>()
  for (const check of checks) if (isWellFormedApiKey(check.key) && !hashes.has(check.key)) hashes.set(check.key, hashKey(check.key))
  const slugs = [...new Set(checks.filter((check) => hashes.has(check.key)).map((check) => check.workspace).filter((slug) => slug !== undefined))]
  const rows = hashes.size === 0 ? [] : await selectKeys(db, [slugs, [...hashes.values()].map((hash) => hash.toString('hex'))])
  const rowsOf = new Map<string, typeof rows>()
  for (const row of rows) {
    // A Buffer from pg, a Uint8Array from PGlite.
    const hex = Buffer.from(row.key_hash).toString('hex')
    rowsOf.set(hex, [...(rowsOf.get(hex) ?? []), row])
  }

  const stale = new Set<string>()
  const results = checks.map((check): Authentication => {
    const hash = hashes.get(check.key)
    if (!hash) return {ok: false, reason: 'malformed'}
    const own = rowsOf.get(hash.toString('hex'))
    const row = own?.[0]
    if (!own || !row) return {ok: false, reason: 'unknown'}
    const user = row.user_id === null || row.user_email === null ? null : {email: row.user_email, id: row.user_id}
    const role: UserRole = user ? (row.user_role as UserRole) : 'superadmin'
    const key = {name: row.name, role, user}
    if (row.revoked_at) return {key, ok: false, reason: 'revoked'}
    if (row.expires_at && row.expires_at.getTime() <= now.getTime()) return {key, ok: false, reason: 'expired'}
    if (row.user_deactivated_at) return {key, ok: false, reason: 'deactivated'}
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) stale.add(row.id)
    const requested = own.find((candidate) => candidate.requested_slug !== null && candidate.requested_slug === check.workspace)
    const workspace =
      !requested || requested.requested_id === null || requested.requested_created_at === null || requested.requested_name === null || requested.requested_slug === null
        ? null
        : {createdAt: requested.requested_created_at, id: requested.requested_id, name: requested.requested_name, slug: requested.requested_slug}
    const keyScopes = row.scopes as ApiScope[]
    const principal: ApiPrincipal = {
      id: row.id,
      keyScopes: new Set(keyScopes),
      name: row.name,
      prefix: row.prefix,
      reach: narrowToWorkspace(userReach(role, row.user_workspaces, row.user_tenants), row.workspace_id),
      role,
      scopes: effectiveScopes(role, keyScopes),
      user,
      workspace: row.slug ?? null,
      workspaceId: row.workspace_id,
    }
    return {ok: true, principal, workspace}
  })
  if (stale.size > 0) await db.updateTable('api_keys').set({last_used_at: now}).where('id', 'in', [...stale]).execute()
  return results
}
