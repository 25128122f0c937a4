import {expect, it} from 'vitest'

import {reachSettings} from '../../src/db/reach-scoped-db.js'

const WORKSPACE = '0b6f4f3e-8a59-4d0e-9a39-1e0c2f6b7d11'
const TENANT = '5d3c2b1a-0f9e-4d8c-b7a6-958473625140'

it('turns a reach into the policies\' settings, and refuses an id that could split a list or end a literal', () => {
  expect(reachSettings({kind: 'all'})).toEqual({role: 'all', tenantKeys: '', tenants: '', workspaces: ''})
  expect(reachSettings({kind: 'workspaces', workspaceIds: new Set([WORKSPACE])})).toEqual({role: 'admin', tenantKeys: '', tenants: '', workspaces: WORKSPACE})
  expect(reachSettings({kind: 'tenants', tenants: [{id: TENANT, tenantId: 'acme-us_1', workspaceId: WORKSPACE}]})).toEqual({role: 'client', tenantKeys: `${WORKSPACE}/acme-us_1`, tenants: TENANT, workspaces: ''})
  for (const hostile of ["x', true); drop table tenants; --", 'a,b', 'back\\slash']) {
    expect(() => reachSettings({kind: 'tenants', tenants: [{id: TENANT, tenantId: hostile, workspaceId: WORKSPACE}]})).toThrow(/reach id/)
  }
})
