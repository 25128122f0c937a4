-- migrate:up

-- tenant_inactive measures tenants.last_activity_at, a tenant's last sign of life
-- (src/services/tenants/tenant-activity.ts), and never fires for a tenant without one. The
-- rule reads active tenants whose last sign of life is old: this index is that range.
create index tenants_last_activity on tenants (last_activity_at) where status = 'active' and last_activity_at is not null;

-- migrate:down

drop index tenants_last_activity;
