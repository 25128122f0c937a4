-- migrate:up

-- Keys for `synthex serve`'s API (src/services/api-keys/api-keys.ts). Only a SHA-256 hash of
-- each key is kept: the key is shown once, when it is made. `prefix` (the product prefix and
-- the first characters) identifies a key in lists and logs without revealing it.
create table api_keys (
  id uuid primary key default gen_random_uuid(),
  name text not null unique,
  prefix text not null,
  key_hash bytea not null unique,
  scopes text[] not null,
  -- null: every workspace.
  workspace_id uuid references workspaces (id) on delete cascade,
  created_at timestamptz not null default now(),
  created_by text not null,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);

-- Idempotency-Key on POST: the first response is kept for a day and replayed to a retry with
-- the same key and body; another body under the same key is refused.
create table idempotency_keys (
  api_key_id uuid not null references api_keys (id) on delete cascade,
  key text not null,
  request_hash bytea not null,
  status int,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (api_key_id, key)
);
create index idempotency_keys_created on idempotency_keys (created_at);

-- Shopify retries a webhook it has no 200 for, with the same X-Shopify-Webhook-Id: each id
-- is applied once.
create table shopify_webhooks (
  webhook_id text primary key,
  topic text not null,
  shop text not null,
  received_at timestamptz not null default now()
);
create index shopify_webhooks_received on shopify_webhooks (received_at);
-- A webhook names its shop; its tenants are found by it, within Shopify's 5 seconds.
create index tenants_shopify_shop on tenants (shopify_shop) where shopify_shop is not null;

-- migrate:down

drop index tenants_shopify_shop;
drop table shopify_webhooks;
drop table idempotency_keys;
drop table api_keys;
