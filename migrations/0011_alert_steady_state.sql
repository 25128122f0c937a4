-- migrate:up

-- `alerts check-now` compares what should be firing with the open alerts in the database and
-- reads into synthex only what differs (src/services/alerts/alert-evaluation.ts), so that a
-- run with nothing new costs one statement over the firing alerts, not the work of
-- re-deciding each of them. Three columns say when an open alert is known to be unchanged:
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

-- migrate:down

alter table alerts
  drop column stable_during,
  drop column basis,
  drop column subject;
