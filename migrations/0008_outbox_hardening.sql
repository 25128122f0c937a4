-- migrate:up

-- A notification still unsent when its alert resolves is superseded by the resolve rather
-- than sent late: a trigger for a problem that is gone pages for nothing. It stays in the
-- outbox, with why (src/services/alert-reconcile.ts).
alter table alert_notifications drop constraint alert_notifications_state;
alter table alert_notifications add constraint alert_notifications_state
  check (state in ('pending', 'sent', 'failed', 'superseded'));

-- A provider's Retry-After now holds a notification for an hour at most; one parked further
-- ahead by an older version (Retry-After: 999999, or a date in 9999) is due within the hour.
update alert_notifications set next_attempt_at = now() + interval '1 hour'
where state = 'pending' and next_attempt_at > now() + interval '1 hour';

-- Provider answers and errors are stored as excerpts of at most 2 KiB, marked as cut
-- (src/services/delivery-outcome.ts); rows written before may hold a whole answer. Each is
-- cut to the longest prefix of at most 2,000 bytes that ends on a character, then marked.
update alert_notifications as n set provider_response = c.cut
from (
  select id, (select left(head, k) from generate_series(char_length(head), 0, -1) as k where octet_length(left(head, k)) <= 2000 limit 1)
             || ' … [cut: ' || to_char(total, 'FM999,999,999,990') || ' bytes in all]' as cut
  from (select id, left(provider_response, 2000) as head, octet_length(provider_response) as total
        from alert_notifications where octet_length(provider_response) > 2048) as long
) as c
where n.id = c.id;

update alert_notifications as n set last_error = c.cut
from (
  select id, (select left(head, k) from generate_series(char_length(head), 0, -1) as k where octet_length(left(head, k)) <= 2000 limit 1)
             || ' … [cut: ' || to_char(total, 'FM999,999,999,990') || ' bytes in all]' as cut
  from (select id, left(last_error, 2000) as head, octet_length(last_error) as total
        from alert_notifications where octet_length(last_error) > 2048) as long
) as c
where n.id = c.id;

-- migrate:down

-- A superseded notification was never sent: as far as the older schema can say, it failed.
update alert_notifications set state = 'failed' where state = 'superseded';
alter table alert_notifications drop constraint alert_notifications_state;
alter table alert_notifications add constraint alert_notifications_state
  check (state in ('pending', 'sent', 'failed'));
