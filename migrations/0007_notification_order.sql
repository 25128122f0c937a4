-- migrate:up

-- An alert's notifications go out in order on each channel: a notification waits while an
-- older one of the same alert is still pending there (a trigger being retried must not be
-- overtaken by its resolve). This index answers that question for each claimed row.
create index alert_notifications_pending_alert on alert_notifications (alert_id, channel, id) where state = 'pending';

-- migrate:down

drop index alert_notifications_pending_alert;
