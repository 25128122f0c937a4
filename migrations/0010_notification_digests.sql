-- migrate:up

-- A storm of notifications of one rule, severity and kind is sent as one digest per channel
-- (src/services/alerts/alert-storms.ts): its outbox row has no alert_id of its own but the
-- alerts it covers, so that `alerts list` can tell each of them was notified once it is sent.
alter table alert_notifications add column alert_ids bigint[];
create index alert_notifications_digests on alert_notifications using gin (alert_ids) where alert_ids is not null;

-- `alerts list` says an alert was notified only once a notification of it was sent: it reads
-- each listed alert's notifications, by alert.
create index alert_notifications_alert on alert_notifications (alert_id) where alert_id is not null;

-- migrate:down

drop index alert_notifications_alert;
drop index alert_notifications_digests;
alter table alert_notifications drop column alert_ids;
