-- migrate:up

-- Each `health check`: its overall status and every check's outcome. The latest runs feed
-- the `health_failing` alert rule and the `synthex_health_status` metric.
create table health_runs (
  id bigint generated always as identity primary key,
  workspace_id uuid references workspaces (id) on delete set null,
  started_at timestamptz not null,
  duration_ms double precision not null,
  status text not null
    constraint health_runs_status check (status in ('healthy', 'degraded', 'unhealthy')),
  checks jsonb not null
);

create index health_runs_started on health_runs (started_at desc);

-- Every command that ran against this database (usage analytics): which, with which flag
-- names (never their values), how it ended and how long it took.
create table command_runs (
  id bigint generated always as identity primary key,
  command text not null,
  flags text[] not null default '{}',
  exit_code integer not null,
  duration_ms double precision not null,
  error_class text,
  actor text not null,
  started_at timestamptz not null
);

create index command_runs_started on command_runs (started_at);

insert into alert_rules (name, params, repeat_interval_seconds) values
  ('health_failing', '{"runs": 3}', 3600);

-- migrate:down

delete from alert_rules where name = 'health_failing';
drop table command_runs;
drop table health_runs;
