import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {makeHome, parseJson, runCli} from '../helpers/cli.js'

/**
 * Issue 13, point 8: what the README quotes from synthex (a sample line, defaults, a check's
 * verdict) is what the package prints. Numbers in a sample line are the README's own.
 */

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8').replaceAll(/\s*\n\s*/g, ' ')

/** The README's sample as a pattern: its numbers (1,204 as synthex writes them) stand for any number. */
function shapeOf(sample: string): RegExp {
  return new RegExp(`^${sample.replaceAll(/[$()*+.?[\\\]^{|}]/g, '\\$&').replaceAll(/\d{1,3}(?:,\d{3})+|\d+/g, String.raw`\d{1,3}(?:,\d{3})*`)}$`)
}

describe('the README\'s figures and sample lines (issue 13, point 8)', () => {
  it('shows the check-now line, the rules\' repeat intervals and the encryption check without a key as the package has them', async () => {
    const home = await makeHome()
    const env = {SYNTHEX_ENCRYPTION_KEY: undefined, SYNTHEX_HOME: home}
    const checked = await runCli(['alerts', 'check-now'], {env})
    expect(checked.code, checked.stderr).toBe(0)
    const sample = /prints one line: `([^`]+)`/.exec(README)?.[1]
    expect(sample).toBeDefined()
    expect(checked.stdout.trim()).toMatch(shapeOf(sample as string))

    const {rules} = parseJson<{rules: Array<{name: string; repeatIntervalMs: number}>}>(await runCli(['alerts', 'rules', '--json'], {env}))
    const hourly = ['health_failing', 'credential_invalid', 'tenant_api_errors', 'tenant_api_slow']
    expect(README).toContain(`each rule's repeat interval (\`1d\`; \`1h\` for ${hourly.map((name) => `\`${name}\``).join(', ').replace(/, ([^,]+)$/, ' and $1')})`)
    for (const rule of rules) expect(rule.repeatIntervalMs, rule.name).toBe(hourly.includes(rule.name) ? 3_600_000 : 86_400_000)

    const health = parseJson<{checks: Array<{name: string; reason: string; status: string}>}>(await runCli(['health', 'check', '--json'], {env}))
    expect(health.checks.find((check) => check.name === 'encryption')).toMatchObject({status: 'healthy'})
    expect(README).toContain('(no key and no credential yet is healthy)')
  })
})
