import {describe, expect, it} from 'vitest'

import {makeHome, parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'

/** Issue 13, point 10: `synthex tenants ...` and `synthex workspaces ...` as short forms of `synthex tenant ...`. */

describeEachCliBackend('short forms of the tenant commands (issue 13, point 10)', (target) => {
  const run = (args: string[]) => runCli(args, {env: target().env})

  it('creates, lists and shows tenants and workspaces through `tenants` and `workspaces`, as the long forms do', async () => {
    expect((await run(['workspaces', 'create', 'short-eu'])).code).toBe(0)
    const created = await run(['tenants', 'create', '--tenant-id', 'short-1', '--name', 'Short One', '--type', 'shopify', '--shopify-shop', 'short-1.myshopify.com', '-w', 'short-eu'])
    expect(created.code, created.stderr).toBe(0)

    // One at a time: the embedded database serves one process.
    const short = await run(['tenants', 'list', '-w', 'short-eu', '--json'])
    const long = await run(['tenant', 'tenants', 'list', '-w', 'short-eu', '--json'])
    const shown = await run(['tenants', 'get', 'short-1', '-w', 'short-eu', '--json'])
    const workspaces = await run(['workspaces', 'list', '--json'])
    expect(short.code).toBe(0)
    expect(parseJson(short)).toEqual(parseJson(long))
    expect(parseJson<{tenants: Array<{tenantId: string}>}>(short).tenants.map((tenant) => tenant.tenantId)).toEqual(['short-1'])
    expect(parseJson<{name: string}>(shown)).toMatchObject({name: 'Short One'})
    expect(JSON.stringify(parseJson(workspaces))).toContain('short-eu')
  })
})

describe('short forms in help and in suggestions (issue 13, point 10)', () => {
  it('lists the short forms as topics, names them as aliases, and suggests them first for a typo', async () => {
    const home = await makeHome({fresh: true})
    const run = (args: string[]) => runCli(args, {env: {SYNTHEX_HOME: home}})
    const [root, topic, command, tenantList, tenantGet, workspaceList, longTypo] = await Promise.all([
      run(['--help']),
      run(['tenants', '--help']),
      run(['tenant', 'tenants', 'list', '--help']),
      run(['tenant', 'list', '--json']),
      run(['tenant', 'get', 'acme']),
      run(['workspace', 'list']),
      run(['tenant', 'tenats', 'list']),
    ])
    expect(root.stdout).toMatch(/\n {2}tenants +Short for `synthex tenant tenants`/)
    expect(root.stdout).toMatch(/\n {2}workspaces +Short for `synthex tenant workspaces`/)
    expect(topic.code).toBe(0)
    expect(topic.stdout).toMatch(/\n {2}tenants list +List tenants\./)
    expect(command.stdout).toContain('ALIASES\n  $ synthex tenants list\n')

    expect(tenantList.code).toBe(2)
    expect(parseJson<{error: {code: string; hint: string}}>(tenantList).error).toMatchObject({code: 'UNKNOWN_COMMAND', hint: expect.stringContaining('Did you mean `synthex tenants list`?')})
    expect(tenantGet.stderr).toContain('Did you mean `synthex tenants get`?')
    expect(workspaceList.stderr).toContain('Did you mean `synthex workspaces list`?')
    // A typo of the long form still gets the long form.
    expect(longTypo.stderr).toContain('Did you mean `synthex tenant tenants list`?')
  })

  it('reports words after a command that takes no arguments as a usage error, without repeating them', async () => {
    const home = await makeHome({fresh: true})
    const token = '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'
    const [plain, json, unknown] = await Promise.all([
      runCli(['metrics', token], {env: {SYNTHEX_HOME: home}}),
      runCli(['metrics', token, '--json'], {env: {SYNTHEX_HOME: home}}),
      runCli([token], {env: {SYNTHEX_HOME: home}}),
    ])
    expect(plain.code).toBe(2)
    expect(plain.stderr.split('\n')[0]).toBe('Error: `synthex metrics` takes no arguments (what followed it is not repeated here, in case it is a secret).')
    expect(parseJson<{error: {code: string; exitCode: number}}>(json).error).toMatchObject({code: 'USAGE', exitCode: 2})
    expect(unknown.code).toBe(2)
    for (const result of [plain, json, unknown]) expect(result.stdout + result.stderr).not.toContain(token)
  })
})
