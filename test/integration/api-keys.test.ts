import {sql} from 'kysely'
import {expect, it} from 'vitest'

import {authenticateApiKey, authenticateApiKeys, createApiKey, generateApiKey, revokeApiKey} from '../../src/services/api-keys/api-keys.js'
import {createWorkspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend} from '../helpers/backends.js'

const audit = {actor: 'alice', source: 'cli'}

describeEachBackend('API keys', (database) => {
  it('checks several requests\' keys in one statement, each with the workspace it addresses', async () => {
    const {db} = database()
    await createWorkspace(db, audit, {slug: 'batch-eu'})
    const everywhere = await createApiKey(db, audit, {expiresAt: null, name: 'batch-all', scopes: ['tenants:read']})
    const limited = await createApiKey(db, audit, {expiresAt: null, name: 'batch-eu-only', scopes: ['tenants:read', 'tenants:write'], workspace: 'batch-eu'})
    const revoked = await createApiKey(db, audit, {expiresAt: null, name: 'batch-revoked', scopes: ['tenants:read']})
    await revokeApiKey(db, audit, 'batch-revoked')
    const expired = await createApiKey(db, audit, {expiresAt: new Date(Date.now() + 3_600_000), name: 'batch-expired', scopes: ['tenants:read']})
    await sql`update api_keys set expires_at = now() - interval '1 minute' where name = 'batch-expired'`.execute(db)

    const results = await authenticateApiKeys(db, [
      {key: everywhere.key, workspace: 'default'},
      {key: limited.key, workspace: 'batch-eu'},
      {key: everywhere.key, workspace: 'nowhere'},
      {key: revoked.key, workspace: 'default'},
      {key: expired.key},
      {key: generateApiKey(), workspace: 'default'},
      {key: 'sxk_not-a-key', workspace: 'default'},
      {key: limited.key, workspace: 'default'},
    ])
    const summary = results.map((result) => (result.ok ? `${result.principal.name}@${result.workspace?.slug ?? '-'}` : result.reason))
    expect(summary).toEqual(['batch-all@default', 'batch-eu-only@batch-eu', 'batch-all@-', 'revoked', 'expired', 'unknown', 'malformed', 'batch-eu-only@default'])
    const eu = results[1]
    expect(eu?.ok && {scopes: [...eu.principal.scopes].sort(), workspace: eu.principal.workspace}).toEqual({scopes: ['tenants:read', 'tenants:write'], workspace: 'batch-eu'})

    // last_used_at written once per key, not once per request.
    const used = await db.selectFrom('api_keys').select(['name', 'last_used_at']).where('name', 'like', 'batch-%').orderBy('name').execute()
    expect(used.map((row) => [row.name, row.last_used_at !== null])).toEqual([
      ['batch-all', true],
      ['batch-eu-only', true],
      ['batch-expired', false],
      ['batch-revoked', false],
    ])

    // One key alone, as the single check gives it.
    const alone = await authenticateApiKey(db, everywhere.key, {workspace: 'batch-eu'})
    expect(alone.ok && alone.workspace?.slug).toBe('batch-eu')
    expect(await authenticateApiKeys(db, [])).toEqual([])
  })
})
