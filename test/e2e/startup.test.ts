import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, inject, it} from 'vitest'

import {makeHome, runCli} from '../helpers/cli.js'

/**
 * `synthex --version`, `synthex --help` and `synthex` alone are answered without starting
 * oclif (src/run.ts). What they print must be what oclif prints: with a DEBUG namespace set
 * (one that matches nothing, so nothing more is printed) synthex steps aside and oclif
 * answers, and the two are compared here, output for output.
 */
const OCLIF_ANSWERS = {DEBUG: 'synthex-test:nothing'}

describe('the quick answers at startup', () => {
  const invocations = [['--version'], ['--help'], []]

  it('print what oclif prints, whatever the width, colours and settings', async () => {
    const home = await makeHome({fresh: true})
    const environments: Array<Record<string, string>> = [
      {},
      {OCLIF_COLUMNS: '44'},
      {FORCE_COLOR: '1', OCLIF_COLUMNS: '120'},
      {NO_COLOR: '1'},
      {SYNTHEX_HOME: home},
      {DATABASE_URL: 'postgres://reader:s3cret@db.example.com:5432/fleet'},
      {SYNTHEX_DB_CONNECT_TIMEOUT: 'soon'},
    ]
    for (const env of environments) {
      for (const args of invocations) {
        const what = `${JSON.stringify(env)} synthex ${args.join(' ')}`
        const quick = await runCli(args, {env})
        const oclif = await runCli(args, {env: {...env, ...OCLIF_ANSWERS}})
        expect(quick.code, what).toBe(0)
        expect(quick.stdout.length, what).toBeGreaterThan(0)
        expect(quick, what).toEqual(oclif)
      }
    }
  })

  it('leave the answer to oclif when the user has a colour theme or plugins of their own', async () => {
    const config = mkdtempSync(join(inject('scratch'), 'oclif-config-'))
    mkdirSync(join(config, 'synthex'))
    writeFileSync(join(config, 'synthex', 'theme.json'), JSON.stringify({sectionHeader: 'red', version: 'green'}))
    const env = {FORCE_COLOR: '1', XDG_CONFIG_HOME: config}
    const themed = await runCli(['--help'], {env})
    expect(themed.code).toBe(0)
    // oclif's theme colours the VERSION section's text green (SGR 32).
    expect(themed.stdout).toContain(`${String.fromCharCode(27)}[32msynthex/`)
    expect(themed).toEqual(await runCli(['--help'], {env: {...env, ...OCLIF_ANSWERS}}))
  })

  it('answer --version first, whatever follows it, as oclif does', async () => {
    const version = await runCli(['--version'])
    for (const args of [['--version', '--help'], ['--version', 'tenant', 'tenants', 'list']]) {
      expect(await runCli(args), args.join(' ')).toEqual(version)
    }

    expect(version.stdout).toMatch(/^synthex\/\d+\.\d+\.\d+\S* (linux|darwin|wsl|win32)-\w+ node-v\d+\.\d+\.\d+\n$/)
  })
})
