import type {ColumnType, Generated, Insertable, Kysely, Selectable, Transaction, Updateable} from 'kysely'

/**
 * Table types for Kysely, one interface per table, columns named as in SQL. Kept by hand
 * beside `migrations/`: a migration that changes a table changes its interface here.
 */

type CreatedAt = ColumnType<Date, Date | string | undefined, never>
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type NullableTimestamp = ColumnType<Date | null, Date | null | string | undefined, Date | null | string>
type Json = ColumnType<Record<string, unknown>, string | undefined, string>

export interface WorkspacesTable {
  created_at: CreatedAt
  id: Generated<string>
  name: string
  slug: string
}

export type TenantType = 'google_merchant' | 'mixed' | 'shopify'
export type TenantStatus = 'active' | 'inactive' | 'suspended'

export interface TenantsTable {
  created_at: CreatedAt
  gmc_merchant_id: null | string
  id: Generated<string>
  last_activity_at: NullableTimestamp
  market: null | string
  metadata: Json
  name: string
  region: null | string
  shopify_shop: null | string
  status: ColumnType<TenantStatus, TenantStatus | undefined, TenantStatus>
  tenant_id: string
  type: TenantType
  updated_at: Timestamp
  workspace_id: string
}

export type CredentialService = 'gmc' | 'google' | 'shopify'

export interface CredentialsTable {
  ciphertext: string
  created_at: CreatedAt
  expires_at: NullableTimestamp
  fingerprint: string
  id: Generated<string>
  key_id: string
  label: string
  revoked_at: NullableTimestamp
  rotated_at: NullableTimestamp
  service: CredentialService
  /** The tenant's uuid (tenants.id), not its tenant_id. */
  tenant_id: string
  version: number
}

export interface EventsTable {
  actor: string
  aggregate_id: string
  aggregate_type: string
  created_at: CreatedAt
  data: Json
  id: Generated<number>
  source: string
  type: string
  workspace_id: null | string
}

export interface Schema {
  credentials: CredentialsTable
  events: EventsTable
  tenants: TenantsTable
  workspaces: WorkspacesTable
}

/** A handle on the database, or on a transaction in it: services accept either. */
export type Db = Kysely<Schema>
export type Tx = Transaction<Schema>

export type WorkspaceRow = Selectable<WorkspacesTable>
export type TenantRow = Selectable<TenantsTable>
export type NewTenantRow = Insertable<TenantsTable>
export type TenantRowUpdate = Updateable<TenantsTable>
export type EventRow = Selectable<EventsTable>
export type CredentialRow = Selectable<CredentialsTable>
