-- migrate:up

-- Outbound webhooks (src/services/webhooks/): subscribers receive synthex's events, signed,
-- exactly once, through an outbox filled in the same transaction as the change.
--
-- A subscription's URL and signing secrets are sealed together in `secrets_ciphertext` (a
-- JSON object {url, secret, previousSecret?}, sealed like a channel's secret); `url_host` is
-- what lists show. `previous_secret_until`: during a rotation's overlap both secrets sign.
create table webhook_subscriptions (
  id uuid primary key default gen_random_uuid(),
  name text not null unique,
  url_host text not null,
  events text[] not null,
  secrets_ciphertext text not null,
  previous_secret_until timestamptz,
  allow_http boolean not null default false,
  allow_private_network boolean not null default false,
  -- null: events of every workspace.
  workspace_id uuid references workspaces (id) on delete cascade,
  created_at timestamptz not null default now(),
  created_by text not null,
  updated_at timestamptz not null default now(),
  disabled_at timestamptz,
  disabled_reason text
);

-- One row per event and subscription: the body is fixed when the event happens, and
-- `message_id` (the `webhook-id` header) is the same on every attempt. Delivery claims due
-- rows with a lease (claimed_until, claimed_by), as the alert outbox does.
create table webhook_deliveries (
  id bigint generated always as identity primary key,
  message_id text not null unique default ('msg_' || replace(gen_random_uuid()::text, '-', '')),
  subscription_id uuid not null references webhook_subscriptions (id) on delete cascade,
  event_type text not null,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  state text not null default 'pending' constraint webhook_deliveries_state check (state in ('pending', 'sent', 'failed')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  claimed_until timestamptz,
  claimed_by text,
  last_status int,
  last_error text,
  sent_at timestamptz,
  finished_at timestamptz
);

create index webhook_deliveries_due on webhook_deliveries (next_attempt_at, id) where state = 'pending';
create index webhook_deliveries_subscription on webhook_deliveries (subscription_id, id desc);
-- A subscription's claims read only its pending rows, oldest first, not the sent ones before them.
create index webhook_deliveries_pending on webhook_deliveries (subscription_id, id) where state = 'pending';

-- A subscription's patterns: an exact type (`tenant.created`), a family (`tenant.*`) or `*`.
create function webhook_matches(patterns text[], event_type text) returns boolean language sql immutable as $$
  select exists (
    select from unnest(patterns) as p
    where p = '*' or p = event_type or (right(p, 2) = '.*' and left(event_type, length(p) - 1) = left(p, length(p) - 1)))
$$;

-- The public event an audit event is, if any (the catalogue: src/services/webhooks/event-catalogue.ts).
create function webhook_event_type(audit_type text, data jsonb) returns text language sql immutable as $$
  select case audit_type
    when 'tenant.created' then 'tenant.created'
    when 'tenant.updated' then 'tenant.updated'
    when 'tenant.deleted' then 'tenant.deleted'
    when 'tenant.activated' then 'tenant.status_changed'
    when 'tenant.suspended' then 'tenant.status_changed'
    when 'tenant.deactivated' then case when data->>'topic' = 'app/uninstalled' then 'tenant.app_uninstalled' else 'tenant.status_changed' end
    when 'credential.set' then 'credential.set'
    when 'credential.rotated' then 'credential.rotated'
    when 'credential.revoked' then 'credential.revoked'
    when 'credential.destroyed' then 'credential.revoked'
  end
$$;

-- Queues events for the subscriptions that want them, in the caller's transaction. Events
-- that are not audit events (alerts, expiry, health, a finished import) are queued through
-- this from src/services/webhooks/webhook-queue.ts; audit events by the trigger below.
create function queue_webhook_events(queued jsonb) returns void language sql as $$
  insert into webhook_deliveries (subscription_id, event_type, payload)
  select s.id, q.type,
         jsonb_build_object('type', q.type, 'timestamp', to_char(q.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', q.data)
  from jsonb_to_recordset(queued) as q (type text, at timestamptz, data jsonb, workspace_id uuid)
  join webhook_subscriptions as s
    on s.disabled_at is null and webhook_matches(s.events, q.type) and (s.workspace_id is null or s.workspace_id = q.workspace_id)
$$;

-- Every audit event that is a public one is queued in the transaction that recorded it, one
-- statement per statement (an import's chunk costs one insert, and nothing at all while no
-- subscription exists).
create function queue_audit_webhooks() returns trigger language plpgsql as $$
begin
  if not exists (select from webhook_subscriptions where disabled_at is null) then
    return null;
  end if;
  perform queue_webhook_events(coalesce((
    select jsonb_agg(jsonb_build_object(
      'type', webhook_event_type(e.type, e.data),
      'at', e.created_at,
      'workspace_id', e.workspace_id,
      'data', e.data || jsonb_build_object('id', e.aggregate_id, 'workspace', w.slug, 'actor', e.actor, 'source', e.source)))
    from inserted as e left join workspaces as w on w.id = e.workspace_id
    where webhook_event_type(e.type, e.data) is not null), '[]'::jsonb));
  return null;
end
$$;

create trigger queue_audit_webhooks after insert on events referencing new table as inserted for each statement execute function queue_audit_webhooks();

-- migrate:down

drop trigger queue_audit_webhooks on events;
drop function queue_audit_webhooks();
drop function queue_webhook_events(jsonb);
drop function webhook_event_type(text, jsonb);
drop function webhook_matches(text[], text);
drop table webhook_deliveries;
drop table webhook_subscriptions;
