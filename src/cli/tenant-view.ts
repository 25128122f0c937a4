import type {AuditEvent} from '../services/events/events.js'
import {TENANT_FIELD_SPECS, TENANT_FIELDS} from '../domain/tenant-fields.js'
import type {FieldChanges, Tenant} from '../services/tenants/tenants.js'
import type {Column} from './output.js'

/** Tenant columns in the CSV import's order and names, so `list --csv` can be re-imported. */
export const TENANT_COLUMNS: ReadonlyArray<Column<Tenant>> = TENANT_FIELDS.map((field) => {
  const {label, property} = TENANT_FIELD_SPECS[field]
  return {header: label, key: field, value: (tenant: Tenant) => tenant[property]}
})

/** Status first after the identity, then the other fields, then where and when. */
export function tenantRecord(tenant: Tenant): Array<[string, unknown]> {
  const fields = TENANT_FIELDS.filter((field) => field !== 'status').map((field): [string, unknown] => [TENANT_FIELD_SPECS[field].label, tenant[TENANT_FIELD_SPECS[field].property]])
  return [
    ...fields.slice(0, 3),
    ['Status', tenant.status],
    ...fields.slice(3),
    ['Workspace', tenant.workspace],
    ['Last activity', tenant.lastActivityAt],
    ['Created', tenant.createdAt],
    ['Updated', tenant.updatedAt],
  ]
}

/** Fields in the order of the CSV columns: jsonb does not keep the order they were written in. */
function rank(field: string): number {
  const index = (TENANT_FIELDS as readonly string[]).indexOf(field)
  return index === -1 ? TENANT_FIELDS.length : index
}

const show = (value: unknown): string => (value === null || value === undefined ? '(none)' : JSON.stringify(value))

/** `name: "Acme" -> "Acme Inc"; market: (none) -> "GB"` */
export function describeChanges(changes: FieldChanges): string {
  return Object.entries(changes)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([field, change]) => `${field}: ${show(change?.from)} -> ${show(change?.to)}`)
    .join('; ')
}

function describeFields(fields: unknown): string {
  if (typeof fields !== 'object' || fields === null) return ''
  return Object.entries(fields)
    .filter(([, value]) => value !== null && value !== undefined)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([field, value]) => `${field}=${JSON.stringify(value)}`)
    .join(' ')
}

export const EVENT_COLUMNS: ReadonlyArray<Column<AuditEvent>> = [
  {header: 'Time', key: 'created_at', value: (event) => event.createdAt},
  {header: 'Event', key: 'type', value: (event) => event.type},
  {header: 'Actor', key: 'actor', value: (event) => event.actor},
  {header: 'Source', key: 'source', value: (event) => event.source},
  {
    header: 'Details',
    key: 'details',
    value: (event) => {
      if (event.type === 'tenants.imported') return `imported from ${String(event.data.file)} (run ${String(event.data.run).slice(0, 8)})`
      if (event.type.startsWith('credential.')) return describeCredentialEvent(event.data)
      const via = event.data.import ? ` (import of ${String((event.data.import as {file?: string}).file)})` : ''
      if (event.data.changes) return describeChanges(event.data.changes as FieldChanges) + via
      return describeFields(event.data.fields ?? event.data)
    },
  },
]

/** `shopify/default v2 (fingerprint f750840cf7ec, was v1), expires 2027-02-20` */
function describeCredentialEvent(data: Record<string, unknown>): string {
  const was = data.previousVersion === undefined ? '' : `, was v${String(data.previousVersion)}`
  const expires = typeof data.expiresAt === 'string' ? `, expires ${data.expiresAt.slice(0, 10)}` : ', no expiry'
  return `${String(data.service)}/${String(data.label)} v${String(data.version)} (fingerprint ${String(data.fingerprint)}${was})${expires}`
}
