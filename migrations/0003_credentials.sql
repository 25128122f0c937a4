-- migrate:up

-- Each tenant's API credentials, sealed (AES-256-GCM, see src/crypto/envelope.ts). A row is
-- one version of one credential (tenant, service, label); rotating adds a version and marks
-- the previous one rotated, revoking marks it revoked: old versions stay for the audit.
create table credentials (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  service text not null
    constraint credentials_service check (service in ('shopify', 'google', 'gmc')),
  label text not null default 'default'
    constraint credentials_label_format check (label ~ '^[A-Za-z0-9_.-]{1,64}$'),
  version integer not null
    constraint credentials_version_positive check (version > 0),
  -- v1:<keyId>:<base64url(nonce|ciphertext|tag)>; never the plaintext.
  ciphertext text not null
    constraint credentials_ciphertext_format check (ciphertext ~ '^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$'),
  key_id text not null,
  -- A keyed hash of the secret (12 hex), to tell versions apart; never a part of the secret.
  fingerprint text not null
    constraint credentials_fingerprint_format check (fingerprint ~ '^[0-9a-f]{12}$'),
  expires_at timestamptz,
  created_at timestamptz not null default now(),
  rotated_at timestamptz,
  revoked_at timestamptz,
  constraint credentials_version_unique unique (tenant_id, service, label, version)
);

-- One active version per credential.
create unique index credentials_one_active on credentials (tenant_id, service, label)
  where rotated_at is null and revoked_at is null;

-- The expiry report and alerts read active credentials by expiry date.
create index credentials_expiring on credentials (expires_at)
  where rotated_at is null and revoked_at is null;

-- `credentials rekey` finds what is not yet under the active key.
create index credentials_key on credentials (key_id);

-- migrate:down

drop table credentials;
