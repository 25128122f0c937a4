-- migrate:up

-- A delivery worker claims a batch of outbox rows for a while (a lease) instead of holding
-- row locks across its HTTP requests: one statement claims many rows, and a process that
-- dies leaves its claims to expire rather than to a rolled-back transaction. `claimed_by`
-- is the `alerts check-now` run holding the lease; its outcome is recorded only while it
-- still does.
alter table alert_notifications
  add column claimed_until timestamptz,
  add column claimed_by uuid;

-- migrate:down

alter table alert_notifications
  drop column claimed_by,
  drop column claimed_until;
