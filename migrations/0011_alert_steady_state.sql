-- migrate:up

-- `alerts check-now` compares what should be firing with the open alerts in the database and
-- reads into synthex only what differs (src/services/alerts/alert-evaluation.ts), not the
-- work of re-deciding each of them. Three columns say when an open alert is known to be
-- unchanged:
--
-- - `subject`: the row it is about: the credential (a row never changes its expiry; a new
--   expiry is a new version, and a new row re-decides the alert) or the tenant.
-- - `basis`: the rest of what its text and severity are computed from, other than the
--   clock: the tenant's id and name (and last sign of life, for tenant_inactive), the rule's
--   thresholds. A renamed tenant or a changed threshold differs.
-- - `stable_during`: the times at which its rule, severity and summary read the same as
--   when they were last computed ("expires in 12 days" holds for a day, "in 40 minutes" for
--   a minute).
--
-- An alert without them (opened by an older version, or by a rule that has none) is always
-- re-decided, as every alert was before.
alter table alerts
  add column subject uuid,
  add column basis text[],
  add column stable_during tstzrange;

-- The open alerts a run cannot leave alone (health_failing's, an older version's): read by
-- every run.
create index alerts_undecided on alerts (id) where state = 'firing' and subject is null;

-- A run with nothing new need not even compare. Every transaction that changes what the
-- compared rules read (tenants, credentials, workspaces, rules, silences) or the alerts
-- themselves leaves its id here, once, from a statement trigger (one row per transaction,
-- whatever it writes: nothing per row for an import). A reconcile records the snapshot its
-- comparison saw (alert_evaluation); the next one compares again only if a transaction not
-- visible in that snapshot changed something, or the clock reached the first instant at
-- which a rule could say something else (next_change_at). Transaction ids, not times: a
-- change that commits late is never taken for one already seen.
create table alert_input_changes (
  xid xid8 primary key
);

create function alert_input_changed() returns trigger language plpgsql as $$
begin
  insert into alert_input_changes (xid) values (pg_current_xact_id()) on conflict do nothing;
  return null;
end
$$;

create trigger alert_inputs after insert or update or delete or truncate on tenants for each statement execute function alert_input_changed();
create trigger alert_inputs after insert or update or delete or truncate on credentials for each statement execute function alert_input_changed();
create trigger alert_inputs after insert or update or delete or truncate on workspaces for each statement execute function alert_input_changed();
create trigger alert_inputs after insert or update or delete or truncate on alert_rules for each statement execute function alert_input_changed();
create trigger alert_inputs after insert or update or delete or truncate on silences for each statement execute function alert_input_changed();
create trigger alert_inputs after insert or update or delete or truncate on alerts for each statement execute function alert_input_changed();

-- What the last comparison found (one row): the snapshot it saw, when, until when nothing
-- can change by the clock alone, and what it counted.
create table alert_evaluation (
  id boolean primary key default true constraint alert_evaluation_one check (id),
  snapshot pg_snapshot not null,
  evaluated_at timestamptz not null,
  next_change_at timestamptz,
  counts jsonb not null
);

-- migrate:down

drop table alert_evaluation;
drop trigger alert_inputs on alerts;
drop trigger alert_inputs on silences;
drop trigger alert_inputs on alert_rules;
drop trigger alert_inputs on workspaces;
drop trigger alert_inputs on credentials;
drop trigger alert_inputs on tenants;
drop function alert_input_changed();
drop table alert_input_changes;
drop index alerts_undecided;

alter table alerts
  drop column stable_during,
  drop column basis,
  drop column subject;
