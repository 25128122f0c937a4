import {sql} from 'kysely'
import {expect, it} from 'vitest'

import {REPORTING_SCHEMA, REPORTING_VIEWS} from '../../src/services/reporting/readonly-role.js'
import {describeEachBackend} from '../helpers/backends.js'

/**
 * The reporting views of migrations/0014_reporting_views.sql, what BI tools read through
 * `db create-readonly-role`: on both backends (the migration runs on both), their rows, and
 * no column that could hold a secret.
 */

const DAY = "interval '1 day'"

describeEachBackend('reporting views', (database) => {
  it('are exactly the documented views, and none has a column named like a secret', async () => {
    const {db} = database()
    const {rows: views} = await sql<{name: string}>`select table_name as name from information_schema.views where table_schema = ${REPORTING_SCHEMA} order by 1`.execute(db)
    expect(views.map((view) => view.name)).toEqual([...REPORTING_VIEWS].sort())
    const {rows: columns} = await sql<{column: string; view: string}>`
      select table_name as view, column_name as column from information_schema.columns where table_schema = ${REPORTING_SCHEMA} order by 1, 2`.execute(db)
    expect(columns.length).toBeGreaterThan(30)
    expect(columns.filter(({column}) => /cipher|secret|key_hash|hash|fingerprint|key_id|token|password/i.test(column))).toEqual([])
    // Every column is documented (BI tools show the comments).
    const {rows: undocumented} = await sql<{column: string}>`
      select c.table_name || '.' || c.column_name as column from information_schema.columns c
      where c.table_schema = ${REPORTING_SCHEMA}
        and col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, c.ordinal_position) is null`.execute(db)
    expect(undocumented).toEqual([])
  })

  it('report each active credential\'s expiry and latest verification, and each workspace\'s figures', async () => {
    const {db} = database()
    const secret = 'v1:k1:Y2FuYXJ5LXNlY3JldC1yZXBvcnRpbmc'
    await sql.raw(`
      insert into workspaces (slug, name) values ('rv-eu', 'Reporting EU');
      insert into tenants (workspace_id, tenant_id, name, type, shopify_shop, gmc_merchant_id, status)
      select w.id, t.tenant_id, t.name, t.type, t.shop, t.merchant, t.status
      from workspaces w, (values
        ('rv-1', 'Shop one', 'shopify', 'rv-1.myshopify.com', null, 'active'),
        ('rv-2', 'Merchant two', 'google_merchant', null, '42', 'suspended'),
        ('rv-3', 'Both three', 'mixed', 'rv-3.myshopify.com', '43', 'active')
      ) as t(tenant_id, name, type, shop, merchant, status)
      where w.slug = 'rv-eu';
      insert into credentials (tenant_id, service, label, version, ciphertext, key_id, fingerprint, expires_at, rotated_at)
      select t.id, c.service, c.label, c.version, '${secret}', 'k1', '0123456789ab', now() + c.expires * ${DAY}, case when c.rotated then now() end
      from tenants t join (values
        ('rv-1', 'shopify', 'default', 1, 5.2, true),
        ('rv-1', 'shopify', 'default', 2, 5.2, false),
        ('rv-2', 'google', 'default', 1, -2.0, false),
        ('rv-3', 'gmc', 'admin', 1, 90.0, false),
        ('rv-3', 'shopify', 'default', 1, null, false)
      ) as c(tenant_id, service, label, version, expires, rotated) on c.tenant_id = t.tenant_id;
      with v as (
        insert into credential_verifications (credential_id, tenant_id, service, outcome, reason, http_status, latency_ms, scopes_required, scopes_missing, message)
        select c.id, c.tenant_id, c.service, 'scopes_missing', 'scope_not_granted', 200, 130, '{read_products,read_orders}', '{read_orders,read_products}', 'Missing: read_orders'
        from credentials c join tenants t on t.id = c.tenant_id where t.tenant_id = 'rv-1' and c.rotated_at is null
        returning id, credential_id, tenant_id, outcome, verified_at)
      insert into credential_verification_latest (credential_id, verification_id, tenant_id, outcome, verified_at)
      select credential_id, id, tenant_id, outcome, verified_at from v;
      insert into alerts (fingerprint, rule, workspace_id, tenant_id, severity, summary, started_at, updated_at)
      select 'rv-' || n, 'credential_expiring', w.id, 'rv-1', s, 'test', now(), now()
      from workspaces w, unnest(array['warning', 'critical', 'critical']) with ordinality as a(s, n) where w.slug = 'rv-eu';
    `).execute(db)

    const {rows: expiry} = await sql<Record<string, unknown>>`
      select tenant_id, tenant_name, tenant_status, service, label, version, days_left, status from reporting.credential_expiry_report
      where workspace = 'rv-eu' order by tenant_id, service`.execute(db)
    expect(expiry).toEqual([
      {days_left: 5, label: 'default', service: 'shopify', status: 'expiring', tenant_id: 'rv-1', tenant_name: 'Shop one', tenant_status: 'active', version: 2},
      {days_left: -2, label: 'default', service: 'google', status: 'expired', tenant_id: 'rv-2', tenant_name: 'Merchant two', tenant_status: 'suspended', version: 1},
      {days_left: 90, label: 'admin', service: 'gmc', status: 'ok', tenant_id: 'rv-3', tenant_name: 'Both three', tenant_status: 'active', version: 1},
      {days_left: null, label: 'default', service: 'shopify', status: 'no_expiry', tenant_id: 'rv-3', tenant_name: 'Both three', tenant_status: 'active', version: 1},
    ])

    const {rows: verification} = await sql<Record<string, unknown>>`
      select tenant_id, service, outcome, reason, http_status, latency_ms, scopes_missing, message, verified_at is not null as verified
      from reporting.credential_verification_report where workspace = 'rv-eu' order by tenant_id, service`.execute(db)
    expect(verification).toEqual([
      {http_status: 200, latency_ms: 130, message: 'Missing: read_orders', outcome: 'scopes_missing', reason: 'scope_not_granted', scopes_missing: 'read_orders,read_products', service: 'shopify', tenant_id: 'rv-1', verified: true},
      {http_status: null, latency_ms: null, message: null, outcome: 'unverified', reason: null, scopes_missing: null, service: 'google', tenant_id: 'rv-2', verified: false},
      {http_status: null, latency_ms: null, message: null, outcome: 'unverified', reason: null, scopes_missing: null, service: 'gmc', tenant_id: 'rv-3', verified: false},
      {http_status: null, latency_ms: null, message: null, outcome: 'unverified', reason: null, scopes_missing: null, service: 'shopify', tenant_id: 'rv-3', verified: false},
    ])

    const {rows: stats} = await sql<Record<string, unknown>>`select * from reporting.tenant_stats where workspace = 'rv-eu'`.execute(db)
    expect(stats).toEqual([
      {
        alerts_critical: 2,
        alerts_firing: 3,
        alerts_info: 0,
        alerts_warning: 1,
        credentials_active: 4,
        credentials_expired: 1,
        credentials_expiring: 1,
        credentials_failing_verification: 1,
        credentials_ok: 2,
        tenants: 3,
        tenants_active: 2,
        tenants_google_merchant: 1,
        tenants_inactive: 0,
        tenants_mixed: 1,
        tenants_shopify: 1,
        tenants_suspended: 1,
        workspace: 'rv-eu',
        workspace_name: 'Reporting EU',
      },
    ])

    // Nothing of the sealed value, in any view.
    for (const view of REPORTING_VIEWS) {
      const {rows} = await sql<{row: string}>`select t::text as row from ${sql.id(REPORTING_SCHEMA, view)} as t`.execute(db)
      expect(rows.length, view).toBeGreaterThan(0)
      expect(rows.filter(({row}) => row.includes('Y2FuYXJ5') || row.includes('0123456789ab')), view).toEqual([])
    }
  })
})
