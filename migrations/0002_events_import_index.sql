-- migrate:up

-- `batch tenants create` records one `tenants.imported` event per chunk listing the tenant ids
-- it created (one row per tenant would double the cost of an import). This index lets
-- `tenant tenants history <id>` find a tenant in those lists. A large pending list (64 MiB)
-- leaves most of the index maintenance to autovacuum instead of the import (it halves the
-- time a million-row import spends on its audit events).
create index events_imported_tenants on events using gin ((data -> 'tenantIds'))
  with (gin_pending_list_limit = 65536) where type = 'tenants.imported';

-- migrate:down

drop index events_imported_tenants;
