-- migrate:up

-- `batch tenants create` records one `tenants.imported` event per chunk listing the tenant ids
-- it created (one row per tenant would double the cost of an import). This index lets
-- `tenant tenants history <id>` find a tenant in those lists.
create index events_imported_tenants on events using gin ((data -> 'tenantIds')) where type = 'tenants.imported';

-- migrate:down

drop index events_imported_tenants;
