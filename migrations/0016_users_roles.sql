-- migrate:up

-- Who may do what through `serve` (src/services/access/, src/services/users/). A user has one
-- role: a superadmin reaches everything; an admin the workspaces assigned to it
-- (user_workspaces); a client the tenants assigned to it (user_tenants). A key acts for its
-- user (api_keys.user_id); a key without a user was made before users existed and acts as a
-- superadmin. Deactivating a user stops its keys on their next request; users are never
-- deleted, so the audit trail's actors keep a meaning.
create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null
    constraint users_email_format check (email ~ '^[^@\s]+@[^@\s]+$' and length(email) <= 254),
  role text not null
    constraint users_role check (role in ('superadmin', 'admin', 'client')),
  created_at timestamptz not null default now(),
  created_by text not null,
  deactivated_at timestamptz
);
-- One user per address, whatever its case.
create unique index users_email on users (lower(email));

create table user_workspaces (
  user_id uuid not null references users (id) on delete cascade,
  workspace_id uuid not null references workspaces (id) on delete cascade,
  created_at timestamptz not null default now(),
  created_by text not null,
  primary key (user_id, workspace_id)
);

create table user_tenants (
  user_id uuid not null references users (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  created_at timestamptz not null default now(),
  created_by text not null,
  primary key (user_id, tenant_id)
);
create index user_tenants_tenant on user_tenants (tenant_id);

alter table api_keys add column user_id uuid references users (id);
create index api_keys_user on api_keys (user_id) where user_id is not null;

-- Row-level security, the second line behind serve's own checks (src/http/auth.ts). A
-- request's database handle (src/db/reach-scoped-db.ts) sets, for its transaction only:
--   synthex.reach_role        all | admin | client
--   synthex.reach_workspaces  an admin's workspace ids, comma-separated
--   synthex.reach_tenants     a client's tenant ids (tenants.id), comma-separated
--   synthex.reach_tenant_keys a client's tenants as <workspace id>/<tenant id>, comma-separated
-- Unset means `all`: the CLI and serve's background work (alert checks, verification,
-- deliveries) see every row. The policies bind only logins that are neither the tables'
-- owner nor BYPASSRLS (`synthex db create-serve-role`); on the embedded database, one
-- superuser session, they never bind. The settings are not a boundary against whoever holds
-- that login's password (anyone may set them): they stop a request that forgot its filter.
create function synthex_reach_role() returns text language sql stable as $$
  select coalesce(nullif(current_setting('synthex.reach_role', true), ''), 'all')
$$;

create function synthex_reach_list(setting text) returns text[] language sql stable as $$
  select coalesce(string_to_array(nullif(current_setting(setting, true), ''), ','), '{}')
$$;

-- A row of this workspace and tenant (tenants.id) within the request's reach.
-- The bodies of these two repeat synthex_reach_role and synthex_reach_list rather than call
-- them: a function's body is resolved with the caller's search_path, and a policy's call of
-- them is not (it is bound when the policy is made). Calling only built-ins, they work for a
-- role whose search_path lacks synthex's schema (`db create-readonly-role` sets `reporting`).
create function synthex_reaches(workspace uuid, tenant uuid) returns boolean language sql stable as $$
  select case coalesce(nullif(current_setting('synthex.reach_role', true), ''), 'all')
    when 'all' then true
    when 'admin' then workspace::text = any(coalesce(string_to_array(nullif(current_setting('synthex.reach_workspaces', true), ''), ','), '{}'))
    when 'client' then tenant::text = any(coalesce(string_to_array(nullif(current_setting('synthex.reach_tenants', true), ''), ','), '{}'))
    else false
  end
$$;

-- The same, for rows that name their tenant by its tenant id within the workspace.
create function synthex_reaches_key(workspace uuid, tenant_key text) returns boolean language sql stable as $$
  select case coalesce(nullif(current_setting('synthex.reach_role', true), ''), 'all')
    when 'all' then true
    when 'admin' then workspace::text = any(coalesce(string_to_array(nullif(current_setting('synthex.reach_workspaces', true), ''), ','), '{}'))
    when 'client' then (workspace::text || '/' || tenant_key) = any(coalesce(string_to_array(nullif(current_setting('synthex.reach_tenant_keys', true), ''), ','), '{}'))
    else false
  end
$$;

alter table tenants enable row level security;
create policy tenants_reach on tenants
  using (synthex_reaches(workspace_id, id))
  with check (synthex_reaches(workspace_id, id));

-- A credential is within reach when its tenant is (the subquery is itself under the
-- tenants policy).
alter table credentials enable row level security;
create policy credentials_reach on credentials
  using (synthex_reach_role() = 'all' or exists (select 1 from tenants where tenants.id = credentials.tenant_id))
  with check (synthex_reach_role() = 'all' or exists (select 1 from tenants where tenants.id = credentials.tenant_id));

alter table alerts enable row level security;
create policy alerts_reach on alerts
  using (synthex_reaches_key(workspace_id, tenant_id))
  with check (synthex_reaches_key(workspace_id, tenant_id));

-- The audit trail is read within reach (a tenant's events for a client; a workspace's for an
-- admin; events of no workspace, such as key and user changes, by superadmins only) and
-- appended to by anyone: a client's rotation, and a denied attempt, are recorded too.
alter table events enable row level security;
create policy events_read on events for select
  using (
    synthex_reach_role() = 'all'
    or (workspace_id is not null and aggregate_type = 'tenant' and synthex_reaches_key(workspace_id, aggregate_id))
    or (synthex_reach_role() = 'admin' and workspace_id is not null and synthex_reaches_key(workspace_id, aggregate_id))
  );
create policy events_append on events for insert with check (true);

-- migrate:down

drop policy events_append on events;
drop policy events_read on events;
alter table events disable row level security;
drop policy alerts_reach on alerts;
alter table alerts disable row level security;
drop policy credentials_reach on credentials;
alter table credentials disable row level security;
drop policy tenants_reach on tenants;
alter table tenants disable row level security;
drop function synthex_reaches_key(uuid, text);
drop function synthex_reaches(uuid, uuid);
drop function synthex_reach_list(text);
drop function synthex_reach_role();
drop index api_keys_user;
alter table api_keys drop column user_id;
drop table user_tenants;
drop table user_workspaces;
drop table users;
