import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {readMigrationFiles} from '../../src/db/migrations.js'

function directory(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'synthex-migrations-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

describe('migration files', () => {
  it('reads dbmate up and down sections, in file-name order', () => {
    const dir = directory({
      '0001_first.sql': '-- migrate:up\ncreate table a (id int);\ncreate table b (id int);\n\n-- migrate:down\ndrop table b;\ndrop table a;\n',
      '0002_second.sql': '-- migrate:up\nalter table a add column x int;\n',
      'README.md': 'not a migration',
    })
    expect(readMigrationFiles(dir)).toEqual([
      {down: 'drop table b;\ndrop table a;', name: '0001_first', up: 'create table a (id int);\ncreate table b (id int);'},
      {down: undefined, name: '0002_second', up: 'alter table a add column x int;'},
    ])
  })

  it('refuses files that break the naming or format rules', () => {
    expect(() => readMigrationFiles(directory({'1_x.sql': '-- migrate:up\nselect 1;'}))).toThrow(/NNNN_snake_case/)
    expect(() => readMigrationFiles(directory({'0001_x.sql': 'select 1;'}))).toThrow(/migrate:up/)
  })

  it('ships migrations that all have both sections', () => {
    const files = readMigrationFiles()
    expect(files.length).toBeGreaterThan(0)
    for (const file of files) {
      expect(file.up.length).toBeGreaterThan(0)
      expect(file.down?.length ?? 0).toBeGreaterThan(0)
    }
  })
})
