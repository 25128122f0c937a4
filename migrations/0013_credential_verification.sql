-- migrate:up

-- `credentials verify` (src/services/verification/) calls Shopify or Google with each stored
-- credential and keeps every answer here: the outcome, the provider's status, the latency,
-- the scopes granted against the ones required, and the provider's message, scrubbed and
-- bounded. Never the credential, never a token. Rows older than 30 days are pruned by the
-- runs that write new ones.
--
-- outcome, coarse and bounded (a metric label):
--   valid           the provider accepted it and every required scope is granted
--   scopes_missing  accepted, but a required scope is not granted (or 403)
--   rejected        the provider refuses it for good: revoked or invalid (401, invalid_grant),
--                   shop frozen (402), no such shop or account (404), shop locked (423)
--   throttled       still 429 after honouring Retry-After
--   timeout         no answer within the per-request timeout
--   error           5xx, a network error, or an answer that is not the provider's
-- reason says which, finer (e.g. `revoked_or_invalid`, `shop_frozen`, `invalid_grant`).
create table credential_verifications (
  id bigint generated always as identity primary key,
  credential_id uuid not null references credentials (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  service text not null,
  run_id uuid,
  verified_at timestamptz not null default now(),
  outcome text not null constraint credential_verifications_outcome
    check (outcome in ('valid', 'scopes_missing', 'rejected', 'throttled', 'timeout', 'error')),
  reason text not null,
  http_status int,
  latency_ms int not null,
  scopes_granted text[],
  scopes_required text[] not null default '{}',
  scopes_missing text[] not null default '{}',
  message text
);

-- tenant_api_errors and tenant_api_slow read a tenant's calls of the last hour.
create index credential_verifications_tenant on credential_verifications (tenant_id, verified_at desc);
create index credential_verifications_credential on credential_verifications (credential_id, verified_at desc);
create index credential_verifications_run on credential_verifications (run_id) where run_id is not null;
-- Pruning reads the oldest answers only.
create index credential_verifications_age on credential_verifications (verified_at);

-- The latest answer per credential, kept beside the history so that credential_invalid,
-- health check and reports read one row per credential, not the history.
create table credential_verification_latest (
  credential_id uuid primary key references credentials (id) on delete cascade,
  verification_id bigint not null references credential_verifications (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  outcome text not null,
  verified_at timestamptz not null
);

create index credential_verification_latest_failing on credential_verification_latest (tenant_id) where outcome <> 'valid';

-- One `credentials verify` run: `--all` resumes the last one of its scope that did not finish
-- (the credentials it has verified carry its run_id). A run holds a lease while it works
-- (claimed_until, renewed as it goes): a second process on the same scope (cron beside
-- `serve --verify-every`) finds it held and does not verify the same credentials again; a
-- run that died leaves a lease that expires, and the next one resumes it. At most one
-- unfinished run per scope.
create table verification_runs (
  id uuid primary key default gen_random_uuid(),
  scope text not null,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  claimed_until timestamptz,
  claimed_by text,
  total int not null,
  summary jsonb
);

create unique index verification_runs_one_open on verification_runs (scope) where finished_at is null;
create index verification_runs_latest on verification_runs (scope, started_at desc);

-- What the verification rules read changes the alerts: a run with new answers is not quiet
-- (migrations/0011_alert_steady_state.sql).
create trigger alert_inputs after insert or update or delete or truncate on credential_verifications for each statement execute function alert_input_changed();

insert into alert_rules (name, params, repeat_interval_seconds) values
  ('credential_invalid', '{}', 3600),
  ('credential_scopes_missing', '{}', 86400),
  ('tenant_api_errors', '{"percent": 5, "min_calls": 1}', 3600),
  ('tenant_api_slow', '{"p95_ms": 2000, "min_calls": 1}', 3600);

-- migrate:down

delete from alert_rules where name in ('credential_invalid', 'credential_scopes_missing', 'tenant_api_errors', 'tenant_api_slow');
drop trigger alert_inputs on credential_verifications;
drop table verification_runs;
drop table credential_verification_latest;
drop table credential_verifications;
