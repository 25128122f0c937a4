import {expect, it} from 'vitest'

import {parseJson, runCli} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'

/**
 * `synthex users` and `api-keys --user` from the command line, end to end; the rules
 * themselves are tested on the services (test/integration/users.test.ts).
 */
describeEachCliBackend('users', (target) => {
  const run = (args: string[]) => runCli(args, {env: {...target().env, SYNTHEX_ACTOR: 'ops-bot'}})
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await run([...args, '--json'])
    expect(result.code, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0)
    return parseJson<T>(result)
  }

  it('creates and assigns users, lists them, and makes keys that act for them, beside a legacy superadmin key', async () => {
    expect((await run(['tenant', 'tenants', 'create', '--tenant-id', 'acme-shop', '--name', 'Acme', '--type', 'shopify', '--shopify-shop', 'acme.myshopify.com'])).code).toBe(0)
    await json(['users', 'create', 'am@agency.example', '--role', 'admin'])
    expect(await json(['users', 'assign', 'am@agency.example', '--workspace', 'default'])).toMatchObject({assigned: true, user: {role: 'admin', workspaces: ['default']}})
    await json(['users', 'create', 'Ops@Acme.example', '--role', 'client', '--tenant', 'acme-shop'])

    // Neither --workspace nor --tenant: a usage error saying which to give.
    const misused = await run(['users', 'assign', 'ops@acme.example', '--json'])
    expect(misused.code).toBe(2)
    expect(parseJson<{error: {code: string; message: string}}>(misused).error.message).toContain('--workspace <slug> (an admin\'s workspace) or --tenant <tenant-id>')

    const {users} = await json<{users: Array<Record<string, unknown>>}>(['users', 'list'])
    expect(users.map(({activeKeys, createdBy, email, role, tenants, workspaces}) => ({activeKeys, createdBy, email, role, tenants, workspaces}))).toEqual([
      {activeKeys: 0, createdBy: 'ops-bot', email: 'am@agency.example', role: 'admin', tenants: [], workspaces: ['default']},
      {activeKeys: 0, createdBy: 'ops-bot', email: 'Ops@Acme.example', role: 'client', tenants: [{tenantId: 'acme-shop', workspace: 'default'}], workspaces: []},
    ])

    await json(['api-keys', 'create', 'legacy', '--scopes', 'health:read'])
    const made = await json<{key: string; role: string; user: string}>(['api-keys', 'create', 'acme-merchant', '--user', 'ops@acme.example', '--scopes', 'tenants:read'])
    expect(made).toMatchObject({key: expect.stringMatching(/^sxk_/), legacy: false, role: 'client', user: 'Ops@Acme.example'})

    const {keys} = await json<{keys: Array<Record<string, unknown>>}>(['api-keys', 'list'])
    expect(keys.map(({legacy, name, role, user}) => ({legacy, name, role, user}))).toEqual([
      {legacy: false, name: 'acme-merchant', role: 'client', user: 'Ops@Acme.example'},
      {legacy: true, name: 'legacy', role: 'superadmin', user: null},
    ])
    expect(JSON.stringify(keys)).not.toContain(made.key)
  })
})
