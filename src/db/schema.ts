import type {ColumnType, Generated, Insertable, Kysely, Selectable, Transaction, Updateable} from 'kysely'
import type {Severity} from '../domain/severity.js'
import type {TenantField, TenantFields, TenantStatus} from '../domain/tenant-fields.js'

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

export type {TenantStatus, TenantType} from '../domain/tenant-fields.js'

/** The tenant fields' columns follow their one definition (src/domain/tenant-fields.ts); status has a default. */
export type TenantsTable = {[K in Exclude<TenantField, 'status'>]: TenantFields[K]} & {
  created_at: CreatedAt
  id: Generated<string>
  last_activity_at: NullableTimestamp
  metadata: Json
  status: ColumnType<TenantStatus, TenantStatus | undefined, TenantStatus>
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

export type NotificationKind = 'escalated' | 'firing' | 'reminder' | 'resolved' | 'test'

export interface AlertRulesTable {
  enabled: ColumnType<boolean, boolean | undefined, boolean>
  name: string
  params: ColumnType<Record<string, number>, string, string>
  repeat_interval_seconds: ColumnType<number, number | undefined, number>
  updated_at: Timestamp
}

export interface AlertsTable {
  acknowledged_at: NullableTimestamp
  acknowledged_by: null | string
  /** What its text and severity were computed from, besides the clock (migrations/0011_alert_steady_state.sql). */
  basis: null | string[]
  details: ColumnType<Record<string, unknown>, string | undefined, string>
  fingerprint: string
  id: Generated<number>
  notified_at: NullableTimestamp
  notified_severity: null | Severity
  resolved_at: NullableTimestamp
  rule: string
  severity: Severity
  /** When its rule, severity and summary read as stored: a tstzrange, as Postgres writes it. */
  stable_during: null | string
  started_at: ColumnType<Date, Date | string, Date | string>
  state: ColumnType<'firing' | 'resolved', 'firing' | 'resolved' | undefined, 'firing' | 'resolved'>
  /** The credential or tenant it is about. */
  subject: null | string
  summary: string
  tenant_id: string
  updated_at: ColumnType<Date, Date | string, Date | string>
  workspace_id: string
}

export interface SilencesTable {
  comment: string
  created_at: CreatedAt
  created_by: string
  ends_at: ColumnType<Date, Date | string, Date | string>
  id: Generated<number>
  matchers: ColumnType<Record<string, string>, string, string>
  starts_at: ColumnType<Date, Date | string, Date | string>
}

export interface ChannelsTable {
  config: ColumnType<Record<string, unknown>, string | undefined, string>
  created_at: CreatedAt
  id: Generated<string>
  min_severity: ColumnType<Severity, Severity | undefined, Severity>
  name: string
  secret_ciphertext: null | string
  type: string
}

export interface HealthRunsTable {
  checks: ColumnType<unknown, string, string>
  duration_ms: number
  id: Generated<number>
  started_at: ColumnType<Date, Date | string, Date | string>
  status: 'degraded' | 'healthy' | 'unhealthy'
  workspace_id: null | string
}

export interface CommandRunsTable {
  actor: string
  command: string
  duration_ms: number
  error_class: null | string
  exit_code: number
  flags: string[]
  id: Generated<number>
  started_at: ColumnType<Date, Date | string, Date | string>
}

export interface AlertNotificationsTable {
  alert_id: null | number
  /** A digest's alerts (alert-storms.ts); null for one alert's notification. */
  alert_ids: ColumnType<null | number[], null | number[] | undefined, null | number[]>
  attempts: ColumnType<number, number | undefined, number>
  channel: string
  claimed_by: null | string
  claimed_until: NullableTimestamp
  created_at: ColumnType<Date, Date | string, Date | string>
  id: Generated<number>
  kind: NotificationKind
  last_error: null | string
  next_attempt_at: ColumnType<Date, Date | string, Date | string>
  payload: ColumnType<Record<string, unknown>, string, string>
  provider_response: null | string
  run_id: string
  sent_at: NullableTimestamp
  severity: Severity
  state: ColumnType<NotificationState, NotificationState | undefined, NotificationState>
}

/** `superseded`: still unsent when its alert resolved, so never sent (migrations/0008_outbox_hardening.sql). */
export type NotificationState = 'failed' | 'pending' | 'sent' | 'superseded'

export interface AlertRunsTable {
  dry_run: boolean
  finished_at: ColumnType<Date, Date | string, Date | string>
  id: string
  started_at: ColumnType<Date, Date | string, Date | string>
  summary: ColumnType<Record<string, unknown>, string, string>
}

export interface ApiKeysTable {
  created_at: CreatedAt
  created_by: string
  expires_at: Date | null
  id: Generated<string>
  key_hash: Buffer
  last_used_at: NullableTimestamp
  name: string
  prefix: string
  revoked_at: NullableTimestamp
  scopes: string[]
  /** The user the key acts for; null: made before users existed, acts as a superadmin. */
  user_id: string | null
  workspace_id: string | null
}

export type UserRole = 'admin' | 'client' | 'superadmin'

export interface UsersTable {
  created_at: CreatedAt
  created_by: string
  deactivated_at: NullableTimestamp
  email: string
  id: Generated<string>
  role: UserRole
}

export interface UserWorkspacesTable {
  created_at: CreatedAt
  created_by: string
  user_id: string
  workspace_id: string
}

export interface UserTenantsTable {
  created_at: CreatedAt
  created_by: string
  /** tenants.id */
  tenant_id: string
  user_id: string
}

export interface IdempotencyKeysTable {
  api_key_id: string
  created_at: CreatedAt
  key: string
  request_hash: Buffer
  response: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>
  status: number | null
}

export interface ShopifyWebhooksTable {
  received_at: CreatedAt
  shop: string
  topic: string
  webhook_id: string
}

export interface CredentialVerificationsTable {
  credential_id: string
  http_status: null | number
  id: Generated<number>
  latency_ms: number
  message: null | string
  outcome: VerificationOutcome
  reason: string
  run_id: null | string
  scopes_granted: null | string[]
  scopes_missing: ColumnType<string[], string[] | undefined, string[]>
  scopes_required: ColumnType<string[], string[] | undefined, string[]>
  service: string
  /** The tenant's uuid (tenants.id). */
  tenant_id: string
  verified_at: CreatedAt
}

/** migrations/0013_credential_verification.sql says what each outcome means. */
export type VerificationOutcome = 'error' | 'rejected' | 'scopes_missing' | 'throttled' | 'timeout' | 'valid'

export interface CredentialVerificationLatestTable {
  credential_id: string
  outcome: VerificationOutcome
  tenant_id: string
  verification_id: number
  verified_at: ColumnType<Date, Date | string, Date | string>
}

export interface VerificationRunsTable {
  claimed_by: null | string
  claimed_until: NullableTimestamp
  finished_at: NullableTimestamp
  id: Generated<string>
  scope: string
  started_at: CreatedAt
  summary: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>
  total: number
}

export interface WebhookSubscriptionsTable {
  allow_http: ColumnType<boolean, boolean | undefined, boolean>
  allow_private_network: ColumnType<boolean, boolean | undefined, boolean>
  created_at: CreatedAt
  created_by: string
  disabled_at: NullableTimestamp
  disabled_reason: null | string
  events: string[]
  id: Generated<string>
  name: string
  previous_secret_until: NullableTimestamp
  /** Sealed JSON {url, secret, previousSecret?} (migrations/0015_webhooks.sql). */
  secrets_ciphertext: string
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>
  url_host: string
  workspace_id: null | string
}

export type WebhookDeliveryState = 'failed' | 'pending' | 'sent'

export interface WebhookDeliveriesTable {
  attempts: ColumnType<number, number | undefined, number>
  claimed_by: null | string
  claimed_until: NullableTimestamp
  created_at: CreatedAt
  event_type: string
  finished_at: NullableTimestamp
  id: Generated<number>
  last_error: null | string
  last_status: null | number
  message_id: Generated<string>
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>
  payload: ColumnType<Record<string, unknown>, string, string>
  sent_at: NullableTimestamp
  state: ColumnType<WebhookDeliveryState, WebhookDeliveryState | undefined, WebhookDeliveryState>
  subscription_id: string
}

export interface Schema {
  webhook_deliveries: WebhookDeliveriesTable
  webhook_subscriptions: WebhookSubscriptionsTable
  credential_verification_latest: CredentialVerificationLatestTable
  credential_verifications: CredentialVerificationsTable
  verification_runs: VerificationRunsTable
  alert_notifications: AlertNotificationsTable
  api_keys: ApiKeysTable
  user_tenants: UserTenantsTable
  user_workspaces: UserWorkspacesTable
  users: UsersTable
  idempotency_keys: IdempotencyKeysTable
  shopify_webhooks: ShopifyWebhooksTable
  alert_rules: AlertRulesTable
  alert_runs: AlertRunsTable
  alerts: AlertsTable
  channels: ChannelsTable
  command_runs: CommandRunsTable
  health_runs: HealthRunsTable
  silences: SilencesTable
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
export type AlertRow = Selectable<AlertsTable>
export type AlertRuleRow = Selectable<AlertRulesTable>
export type SilenceRow = Selectable<SilencesTable>
export type ChannelRow = Selectable<ChannelsTable>
export type NotificationRow = Selectable<AlertNotificationsTable>
export type ApiKeyRow = Selectable<ApiKeysTable>
export type UserRow = Selectable<UsersTable>
