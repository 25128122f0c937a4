import type {AuditEvent} from '../services/events/events.js'
import {TENANT_FIELDS} from '../domain/tenant-fields.js'
import type {FieldChanges, Tenant} from '../services/tenants/tenants.js'
import type {Column} from './output.js'

/** Tenant columns in the CSV import's order and names, so `list --csv` can be re-imported. */
export const TENANT_COLUMNS: ReadonlyArray<Column<Tenant>> = [
  {header: 'Tenant ID', key: 'tenant_id', value: (tenant) => tenant.tenantId},
  {header: 'Name', key: 'name', value: (tenant) => tenant.name},
  {header: 'Type', key: 'type', value: (tenant) => tenant.type},
  {header: 'Shopify shop', key: 'shopify_shop', value: (tenant) => tenant.shopifyShop},
  {header: 'Merchant ID', key: 'gmc_merchant_id', value: (tenant) => tenant.gmcMerchantId},
  {header: 'Market', key: 'market', value: (tenant) => tenant.market},
  {header: 'Region', key: 'region', value: (tenant) => tenant.region},
  {header: 'Status', key: 'status', value: (tenant) => tenant.status},
]

export function tenantRecord(tenant: Tenant): Array<[string, unknown]> {
  return [
    ['Tenant ID', tenant.tenantId],
    ['Name', tenant.name],
    ['Type', tenant.type],
    ['Status', tenant.status],
    ['Shopify shop', tenant.shopifyShop],
    ['Merchant ID', tenant.gmcMerchantId],
    ['Market', tenant.market],
    ['Region', tenant.region],
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
