import type {UserRole} from '../../db/schema.js'
import {API_SCOPES, type ApiScope} from '../api-keys/scopes.js'

/** The roles a user may have, from most to least powerful. */
export const USER_ROLES = ['superadmin', 'admin', 'client'] as const satisfies readonly UserRole[]
export type {UserRole} from '../../db/schema.js'

/**
 * What each role may ever do, as scopes; a key may do what its scopes and its user's role
 * both allow. A superadmin may do everything. An admin looks after tenants, their credentials,
 * alerts, events and health in its workspaces, and manages client users there. A client reads
 * its own tenants, their credentials' metadata, alerts and events, and sets and rotates their
 * credentials: nothing else. The README's roles table says the same (test/unit/roles-readme.test.ts).
 */
export const ROLE_SCOPES: Readonly<Record<UserRole, ReadonlySet<ApiScope>>> = {
  admin: new Set<ApiScope>(['alerts:read', 'credentials:read', 'credentials:write', 'events:read', 'health:read', 'tenants:read', 'tenants:write', 'users:read', 'users:write']),
  client: new Set<ApiScope>(['alerts:read', 'credentials:read', 'credentials:write', 'events:read', 'tenants:read']),
  superadmin: new Set<ApiScope>(API_SCOPES),
}

/** A key's scopes within what its user's role allows. */
export function effectiveScopes(role: UserRole, keyScopes: readonly ApiScope[]): Set<ApiScope> {
  return new Set(keyScopes.filter((scope) => ROLE_SCOPES[role].has(scope)))
}

/** Whether a user of role `actor` may create or manage users of role `target`: superadmins any; admins clients only. */
export function mayManageRole(actor: UserRole, target: UserRole): boolean {
  return actor === 'superadmin' || (actor === 'admin' && target === 'client')
}
