-- migrate:up

-- Views for BI tools (Metabase, Tableau, psql), in a schema of their own: `synthex db
-- create-readonly-role` (src/services/reporting/readonly-role.ts) grants a login USAGE on
-- this schema and SELECT on these views, and nothing on the tables. A view reads the tables
-- with the privileges of its owner (the role that ran the migrations; these are not
-- `security_invoker` views), so the reader needs no grant on them, and sees only the columns
-- chosen here: never a ciphertext, a fingerprint, a key id, a channel's secret or an API
-- key's hash. The columns are documented by the comments below, which BI tools show.
--
-- A credential is "active" while it is neither rotated nor revoked (one per tenant, service
-- and label); expiring means within 30 days, as `synthex metrics` counts it
-- (src/services/credentials/credential-expiry.ts, EXPIRING_WITHIN_DAYS).
create schema reporting;

comment on schema reporting is 'synthex reporting views for BI tools: tenant_stats, credential_expiry_report, credential_verification_report. Never a secret.';

create view reporting.tenant_stats as
select
  w.slug as workspace,
  w.name as workspace_name,
  t.tenants,
  t.tenants_active,
  t.tenants_inactive,
  t.tenants_suspended,
  t.tenants_shopify,
  t.tenants_google_merchant,
  t.tenants_mixed,
  c.credentials_active,
  c.credentials_ok,
  c.credentials_expiring,
  c.credentials_expired,
  c.credentials_failing_verification,
  a.alerts_firing,
  a.alerts_critical,
  a.alerts_warning,
  a.alerts_info
from workspaces w
cross join lateral (
  select
    count(*)::int as tenants,
    count(*) filter (where status = 'active')::int as tenants_active,
    count(*) filter (where status = 'inactive')::int as tenants_inactive,
    count(*) filter (where status = 'suspended')::int as tenants_suspended,
    count(*) filter (where type = 'shopify')::int as tenants_shopify,
    count(*) filter (where type = 'google_merchant')::int as tenants_google_merchant,
    count(*) filter (where type = 'mixed')::int as tenants_mixed
  from tenants
  where workspace_id = w.id
) t
cross join lateral (
  select
    count(*)::int as credentials_active,
    count(*) filter (where cr.expires_at is null or cr.expires_at > now() + interval '30 days')::int as credentials_ok,
    count(*) filter (where cr.expires_at > now() and cr.expires_at <= now() + interval '30 days')::int as credentials_expiring,
    count(*) filter (where cr.expires_at <= now())::int as credentials_expired,
    count(*) filter (where l.outcome is not null and l.outcome <> 'valid')::int as credentials_failing_verification
  from credentials cr
  join tenants te on te.id = cr.tenant_id
  left join credential_verification_latest l on l.credential_id = cr.id
  where te.workspace_id = w.id and cr.rotated_at is null and cr.revoked_at is null
) c
cross join lateral (
  select
    count(*)::int as alerts_firing,
    count(*) filter (where severity = 'critical')::int as alerts_critical,
    count(*) filter (where severity = 'warning')::int as alerts_warning,
    count(*) filter (where severity = 'info')::int as alerts_info
  from alerts
  where workspace_id = w.id and state = 'firing'
) a;

comment on view reporting.tenant_stats is 'One row per workspace: its tenants by status and type, its active credentials by expiry and verification, its firing alerts by severity.';
comment on column reporting.tenant_stats.workspace is 'The workspace''s slug (--workspace).';
comment on column reporting.tenant_stats.workspace_name is 'The workspace''s name.';
comment on column reporting.tenant_stats.tenants is 'Tenants in the workspace, any status.';
comment on column reporting.tenant_stats.tenants_active is 'Tenants whose status is active.';
comment on column reporting.tenant_stats.tenants_inactive is 'Tenants whose status is inactive.';
comment on column reporting.tenant_stats.tenants_suspended is 'Tenants whose status is suspended.';
comment on column reporting.tenant_stats.tenants_shopify is 'Tenants of type shopify.';
comment on column reporting.tenant_stats.tenants_google_merchant is 'Tenants of type google_merchant.';
comment on column reporting.tenant_stats.tenants_mixed is 'Tenants of type mixed.';
comment on column reporting.tenant_stats.credentials_active is 'Active credentials (neither rotated nor revoked).';
comment on column reporting.tenant_stats.credentials_ok is 'Active credentials with no expiry or more than 30 days left.';
comment on column reporting.tenant_stats.credentials_expiring is 'Active credentials expiring within 30 days.';
comment on column reporting.tenant_stats.credentials_expired is 'Active credentials past their expiry.';
comment on column reporting.tenant_stats.credentials_failing_verification is 'Active credentials whose latest verification (credentials verify) was not valid.';
comment on column reporting.tenant_stats.alerts_firing is 'Alerts firing in the workspace.';
comment on column reporting.tenant_stats.alerts_critical is 'Alerts firing at severity critical.';
comment on column reporting.tenant_stats.alerts_warning is 'Alerts firing at severity warning.';
comment on column reporting.tenant_stats.alerts_info is 'Alerts firing at severity info.';

create view reporting.credential_expiry_report as
select
  w.slug as workspace,
  t.tenant_id,
  t.name as tenant_name,
  t.status as tenant_status,
  c.service,
  c.label,
  c.version,
  c.created_at,
  c.expires_at,
  -- Rounded to the nearest day, as `credentials list` says it (credential-expiry.ts, daysLeft).
  case when c.expires_at is not null then floor(extract(epoch from (c.expires_at - now())) / 86400 + 0.5)::int end as days_left,
  case
    when c.expires_at is null then 'no_expiry'
    when c.expires_at <= now() then 'expired'
    when c.expires_at <= now() + interval '30 days' then 'expiring'
    else 'ok'
  end as status
from credentials c
join tenants t on t.id = c.tenant_id
join workspaces w on w.id = t.workspace_id
where c.rotated_at is null and c.revoked_at is null;

comment on view reporting.credential_expiry_report is 'One row per active credential (neither rotated nor revoked): when it expires. Never the secret.';
comment on column reporting.credential_expiry_report.workspace is 'The workspace''s slug.';
comment on column reporting.credential_expiry_report.tenant_id is 'The tenant''s id (as in tenant tenants get).';
comment on column reporting.credential_expiry_report.tenant_name is 'The tenant''s name.';
comment on column reporting.credential_expiry_report.tenant_status is 'The tenant''s status: active, inactive or suspended.';
comment on column reporting.credential_expiry_report.service is 'The API: shopify, google or gmc.';
comment on column reporting.credential_expiry_report.label is 'Tells apart several credentials of one service (default: default).';
comment on column reporting.credential_expiry_report.version is 'The version: 1, then one more at each rotation.';
comment on column reporting.credential_expiry_report.created_at is 'When this version was stored.';
comment on column reporting.credential_expiry_report.expires_at is 'When it expires; null when it does not.';
comment on column reporting.credential_expiry_report.days_left is 'Days until it expires, to the nearest day; negative once expired; null without an expiry.';
comment on column reporting.credential_expiry_report.status is 'ok, expiring (within 30 days), expired, or no_expiry.';

create view reporting.credential_verification_report as
select
  w.slug as workspace,
  t.tenant_id,
  t.name as tenant_name,
  c.service,
  c.label,
  coalesce(l.outcome, 'unverified') as outcome,
  v.reason,
  v.http_status,
  v.latency_ms,
  nullif(array_to_string(v.scopes_missing, ','), '') as scopes_missing,
  v.verified_at,
  v.message
from credentials c
join tenants t on t.id = c.tenant_id
join workspaces w on w.id = t.workspace_id
left join credential_verification_latest l on l.credential_id = c.id
left join credential_verifications v on v.id = l.verification_id
where c.rotated_at is null and c.revoked_at is null;

comment on view reporting.credential_verification_report is 'One row per active credential: the latest answer of its provider to credentials verify, or unverified. Never the secret.';
comment on column reporting.credential_verification_report.workspace is 'The workspace''s slug.';
comment on column reporting.credential_verification_report.tenant_id is 'The tenant''s id.';
comment on column reporting.credential_verification_report.tenant_name is 'The tenant''s name.';
comment on column reporting.credential_verification_report.service is 'The API: shopify, google or gmc.';
comment on column reporting.credential_verification_report.label is 'Tells apart several credentials of one service.';
comment on column reporting.credential_verification_report.outcome is 'valid, scopes_missing, rejected, throttled, timeout, error, or unverified (never verified).';
comment on column reporting.credential_verification_report.reason is 'Finer than outcome, e.g. revoked_or_invalid, shop_frozen, invalid_grant; null when unverified.';
comment on column reporting.credential_verification_report.http_status is 'The provider''s HTTP status; null without an answer (timeout, network error) or when unverified.';
comment on column reporting.credential_verification_report.latency_ms is 'How long the provider took to answer, in milliseconds.';
comment on column reporting.credential_verification_report.scopes_missing is 'Required scopes not granted, comma-separated; null when none is missing.';
comment on column reporting.credential_verification_report.verified_at is 'When it was last verified; null when never.';
comment on column reporting.credential_verification_report.message is 'The provider''s error message, scrubbed of secrets and bounded (migration 0013); null when none.';

-- migrate:down

drop view reporting.credential_verification_report;
drop view reporting.credential_expiry_report;
drop view reporting.tenant_stats;
drop schema reporting;
