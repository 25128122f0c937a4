import {expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'

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
    const created = await runCli(['tenant', 'tenants', 'create', '--tenant-id', 'csv-1', '--name', 'Csv', '--type', 'shopify', '--shopify-shop', 'csv-1.myshopify.com'], {env: target().env})
    expect(created.code, created.stderr).toBe(0)
    for (const args of LISTS) {
      const result = await runCli([...args, '--csv'], {env: target().env})
      const what = args.join(' ')
      expect(result.code, `${what}: ${result.stderr}`).toBe(0)
      const header = result.stdout.split('\n')[0] ?? ''
      expect(header, what).toMatch(/^[a-z][\d_a-z]*(?:,[a-z][\d_a-z]*)+$/)
    }
  })
})
