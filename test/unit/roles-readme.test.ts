import {readFileSync} from 'node:fs'

import {expect, it} from 'vitest'

import {ROLE_SCOPES, USER_ROLES} from '../../src/services/access/roles.js'
import {API_SCOPES} from '../../src/services/api-keys/scopes.js'

it('the README\'s roles table lists, for each role, exactly the scopes serve lets its keys use', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const header = readme.split('\n').find((line) => line.startsWith('| | superadmin | admin | client |'))
  expect(header).toBeDefined()
  const row = readme.split('\n').find((line) => line.startsWith('| scopes its keys may use |'))
  expect(row).toBeDefined()
  const cells = (row as string).split('|').slice(2, -1).map((cell) => cell.trim())
  const documented = cells.map((cell) => (cell === 'all' ? [...API_SCOPES] : [...cell.matchAll(/`([a-z]+:[a-z]+)`/g)].map((match) => match[1] as string)))
  expect(Object.fromEntries(USER_ROLES.map((role, index) => [role, documented[index]?.sort()]))).toEqual(
    Object.fromEntries(USER_ROLES.map((role) => [role, [...ROLE_SCOPES[role]].sort()])),
  )
})
