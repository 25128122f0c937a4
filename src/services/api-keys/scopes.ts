import {InvalidInputError} from '../../errors/input-errors.js'

/** What a key may be allowed to do, one scope per kind of resource and access. */
export const API_SCOPES = [
  'alerts:read',
  'credentials:read',
  'credentials:write',
  'events:read',
  'health:read',
  'metrics:read',
  'tenants:read',
  'tenants:write',
  'users:read',
  'users:write',
  'webhooks:read',
  'webhooks:write',
] as const
export type ApiScope = (typeof API_SCOPES)[number]

/** Reads `a,b` or `all` into scopes; an unknown one is an input error naming the valid ones. */
export function parseScopes(text: string): ApiScope[] {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '')
  if (names.length === 1 && names[0] === 'all') return [...API_SCOPES]
  const unknown = names.filter((name) => !(API_SCOPES as readonly string[]).includes(name))
  if (names.length === 0 || unknown.length > 0) {
    throw new InvalidInputError([{field: 'scopes', message: `${names.length === 0 ? 'needs at least one scope' : `has unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => JSON.stringify(name)).join(', ')}`}; valid: ${API_SCOPES.join(', ')}, or all`}])
  }

  return [...new Set(names as ApiScope[])].sort()
}
