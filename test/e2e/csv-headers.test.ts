import {expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {seedFleet} from '../helpers/seed-fleet.js'

/** Issue 13, point 8: every `--csv` export names its columns the same way, in snake_case. */

const LISTS = [
  ['tenant', 'tenants', 'list'],
  ['tenant', 'tenants', 'history', 'csv-1'],
  ['tenant', 'workspaces', 'list'],
  ['credentials', 'list'],
  ['credentials', 'expiring'],
  ['events', 'list'],
  ['alerts', 'list'],
  ['alerts', 'channels', 'list'],
  ['alerts', 'silences'],
  ['alerts', 'deliveries'],
  ['usage', 'report'],
  ['webhooks', 'deliveries'],
]

describeEachCliBackend('CSV headers (issue 13, point 8)', (target) => {
  it('are snake_case in every list that prints CSV', async () => {
    // A tenant, so that its history has a row; creating it is test/e2e/tenant-lifecycle.test.ts's subject.
    await seedFleet(target(), {tenants: [{name: 'Csv', shopify_shop: 'csv-1.myshopify.com', tenant_id: 'csv-1', type: 'shopify'}]})
    for (const args of LISTS) {
      const result = await runCli([...args, '--csv'], {env: target().env})
      const what = args.join(' ')
      expect(result.code, `${what}: ${result.stderr}`).toBe(0)
      const header = result.stdout.split('\n')[0] ?? ''
      expect(header, what).toMatch(/^[a-z][\d_a-z]*(?:,[a-z][\d_a-z]*)+$/)
    }
  })
})
