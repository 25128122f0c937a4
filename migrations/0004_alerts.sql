-- migrate:up

-- Built-in alert rules and their settings (`alerts rules`, `alerts rules set`).
create table alert_rules (
  name text primary key,
  enabled boolean not null default true,
  -- Rule thresholds, e.g. {"info": 30, "warning": 7, "critical": 1} (days).
  params jsonb not null,
  repeat_interval_seconds integer not null default 86400
    constraint alert_rules_repeat_positive check (repeat_interval_seconds > 0),
  updated_at timestamptz not null default now()
);

insert into alert_rules (name, params) values
  ('credential_expiring', '{"info": 30, "warning": 7, "critical": 1}'),
  ('credential_expired', '{}'),
  ('tenant_inactive', '{"days": 30}');

-- One row per episode of an alert: it fires, may change severity, and resolves. The
-- fingerprint names what it is about (rule, workspace, tenant, credential) and is stable
-- across episodes; at most one episode per fingerprint is open.
create table alerts (
  id bigint generated always as identity primary key,
  fingerprint text not null,
  rule text not null,
  workspace_id uuid not null,
  tenant_id text not null,
  severity text not null
    constraint alerts_severity check (severity in ('info', 'warning', 'critical')),
  state text not null default 'firing'
    constraint alerts_state check (state in ('firing', 'resolved')),
  summary text not null,
  details jsonb not null default '{}',
  started_at timestamptz not null,
  updated_at timestamptz not null,
  resolved_at timestamptz,
  -- What was last sent about it: nothing yet (silenced since it started), or this severity.
  notified_at timestamptz,
  notified_severity text,
  acknowledged_at timestamptz,
  acknowledged_by text
);

create unique index alerts_one_open on alerts (fingerprint) where state = 'firing';
create index alerts_state on alerts (state, severity);

create table silences (
  id bigint generated always as identity primary key,
  -- Any of: workspace (id), tenant (tenant id), rule, severity. All given must match.
  matchers jsonb not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  comment text not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  constraint silences_window check (ends_at > starts_at)
);

-- Notification channels. The secret part (a webhook URL, a routing key, an API key, an SMTP
-- URL with its password) is sealed like a credential; `config` holds only what is not secret.
create table channels (
  id uuid primary key default gen_random_uuid(),
  name text not null unique
    constraint channels_name_format check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  type text not null,
  config jsonb not null default '{}',
  secret_ciphertext text,
  min_severity text not null default 'info'
    constraint channels_min_severity check (min_severity in ('info', 'warning', 'critical')),
  created_at timestamptz not null default now()
);

-- The outbox: every notification decided by a reconcile is written here in the same
-- transaction, then delivered (and retried) from here. `payload` is the alert as it was
-- when the notification was decided.
create table alert_notifications (
  id bigint generated always as identity primary key,
  run_id uuid not null,
  channel text not null,
  alert_id bigint references alerts (id) on delete set null,
  kind text not null
    constraint alert_notifications_kind check (kind in ('firing', 'escalated', 'reminder', 'resolved', 'test')),
  severity text not null,
  payload jsonb not null,
  state text not null default 'pending'
    constraint alert_notifications_state check (state in ('pending', 'sent', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  last_error text,
  provider_response text,
  created_at timestamptz not null,
  sent_at timestamptz
);

create index alert_notifications_pending on alert_notifications (channel, id) where state = 'pending';
create index alert_notifications_state on alert_notifications (state, created_at);

-- Each `alerts check-now`: when it ran and what it did. `health check` reads the latest as
-- a dead-man's switch for the cron job.
create table alert_runs (
  id uuid primary key,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  dry_run boolean not null,
  summary jsonb not null
);

create index alert_runs_started on alert_runs (started_at desc);

-- migrate:down

drop table alert_runs;
drop table alert_notifications;
drop table channels;
drop table silences;
drop table alerts;
drop table alert_rules;
