import type {User, UserTenant} from '../services/users/users.js'
import type {Column} from './output.js'

/** A client's tenant as people read it: `acme-shop (acme-eu)`, its workspace in brackets. */
export function tenantText(tenant: UserTenant): string {
  return `${tenant.tenantId} (${tenant.workspace})`
}

/** What a user reaches, in a few words: every workspace, its workspaces, or its tenants. */
export function reachText(user: User): string {
  if (user.role === 'superadmin') return '(everything)'
  if (user.role === 'admin') return user.workspaces.length > 0 ? user.workspaces.join(', ') : '(nothing yet)'
  return user.tenants.length > 0 ? user.tenants.map((tenant) => tenantText(tenant)).join(', ') : '(nothing yet)'
}

export const USER_COLUMNS: ReadonlyArray<Column<User>> = [
  {header: 'Email', key: 'email', value: (user) => user.email},
  {header: 'Role', key: 'role', value: (user) => user.role},
  {header: 'Reaches', key: 'reaches', value: (user) => reachText(user)},
  {header: 'Active keys', key: 'active_keys', value: (user) => user.activeKeys},
  {header: 'Created', key: 'created_at', value: (user) => user.createdAt},
  {header: 'Created by', key: 'created_by', value: (user) => user.createdBy},
  {header: 'State', key: 'state', style: (user) => (user.deactivatedAt ? 'dim' : undefined), value: (user) => (user.deactivatedAt ? 'deactivated' : 'active')},
  {header: 'Deactivated', key: 'deactivated_at', value: (user) => user.deactivatedAt},
]
