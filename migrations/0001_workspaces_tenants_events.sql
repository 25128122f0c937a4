-- migrate:up

-- A workspace groups tenants (one per client, region or team). `default` always exists.
create table workspaces (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique
    constraint workspaces_slug_format check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text not null
    constraint workspaces_name_length check (char_length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

insert into workspaces (slug, name) values ('default', 'Default workspace');

-- The checks repeat the validation that synthex runs before writing (src/services/tenant-fields.ts)
-- so that nothing written by another tool can break the rules the CLI relies on.
create table tenants (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  tenant_id text not null
    constraint tenants_tenant_id_format check (tenant_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  name text not null
    constraint tenants_name_length check (char_length(name) between 1 and 200),
  type text not null
    constraint tenants_type check (type in ('shopify', 'google_merchant', 'mixed')),
  status text not null default 'active'
    constraint tenants_status check (status in ('active', 'inactive', 'suspended')),
  shopify_shop text
    constraint tenants_shopify_shop_format check (shopify_shop ~ '^[a-z0-9][a-z0-9-]*\.myshopify\.com$'),
  gmc_merchant_id text
    constraint tenants_gmc_merchant_id_format check (gmc_merchant_id ~ '^[0-9]{1,20}$'),
  market text
    constraint tenants_market_format check (market ~ '^[A-Z]{2}$'),
  region text
    constraint tenants_region_length check (char_length(region) between 1 and 64),
  metadata jsonb not null default '{}',
  last_activity_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tenants_workspace_tenant_id unique (workspace_id, tenant_id),
  constraint tenants_shopify_needs_shop check (type = 'google_merchant' or shopify_shop is not null),
  constraint tenants_gmc_needs_merchant check (type = 'shopify' or gmc_merchant_id is not null)
);

create index tenants_workspace_status on tenants (workspace_id, status);

-- The audit trail. Rows are written in the same transaction as the change they describe
-- and are never updated or deleted; `workspace_id` carries no foreign key so that history
-- outlives what it describes.
create table events (
  id bigint generated always as identity primary key,
  workspace_id uuid,
  type text not null,
  aggregate_type text not null,
  aggregate_id text not null,
  data jsonb not null default '{}',
  actor text not null,
  source text not null,
  created_at timestamptz not null default now()
);

create index events_aggregate on events (workspace_id, aggregate_type, aggregate_id, id);
create index events_created_at on events (created_at);

create function events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'the audit trail (events) is append-only: % is not allowed', tg_op;
end
$$;

create trigger events_append_only before update or delete on events
  for each row execute function events_append_only();

-- migrate:down

drop trigger events_append_only on events;
drop function events_append_only();
drop table events;
drop table tenants;
drop table workspaces;
