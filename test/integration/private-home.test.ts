import {chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {PGlite} from '@electric-sql/pglite'
import {describe, expect, inject, it} from 'vitest'

import {makeTreePrivate, privateNodeFs, repairHome} from '../../src/db/private-home.js'

/** Modes (octal) of everything under `root` that the group or others may use. */
function shared(root: string): string[] {
  const stats = lstatSync(root)
  const own = (stats.mode & 0o077) === 0 ? [] : [`${root} ${(stats.mode & 0o777).toString(8)}`]
  return stats.isDirectory() ? [...own, ...readdirSync(root).flatMap((name) => shared(join(root, name)))] : own
}

const scratch = (): string => mkdtempSync(join(tmpdir(), 'synthex-home-'))
const template = (): Blob => new Blob([readFileSync(inject('pgliteTemplate'))])

describe('privateNodeFs', () => {
  it('writes a data directory with no group or other bits where PGlite alone writes its files 0666', async () => {
    const plain = join(scratch(), 'pgdata')
    await (await PGlite.create(plain, {loadDataDir: template()})).close()
    expect(shared(plain).filter((entry) => entry.endsWith(' 666')).length).toBeGreaterThan(900)

    const dataDir = join(scratch(), 'pgdata')
    mkdirSync(dataDir, {mode: 0o700})
    const client = await PGlite.create({fs: await privateNodeFs(dataDir), loadDataDir: template()})
    // Postgres creates files of its own as it works, and on close.
    await client.exec('create table later (id int); insert into later values (1); checkpoint')
    await client.close()
    expect(readdirSync(dataDir).length).toBeGreaterThan(10)
    expect(shared(dataDir)).toEqual([])

    const reopened = await PGlite.create({fs: await privateNodeFs(dataDir)})
    expect((await reopened.query<{id: number}>('select id from later')).rows).toEqual([{id: 1}])
    await reopened.close()
    expect(shared(dataDir)).toEqual([])
  })
})

describe('repairHome', () => {
  const home = (): {dataDir: string; home: string} => {
    const path = join(scratch(), 'synthex')
    mkdirSync(join(path, 'pgdata', 'base'), {mode: 0o700, recursive: true})
    writeFileSync(join(path, 'pgdata', 'base', '1'), 'x', {mode: 0o600})
    writeFileSync(join(path, 'encryption.key'), 'k', {mode: 0o600})
    return {dataDir: join(path, 'pgdata'), home: path}
  }

  it('says nothing about a private home', () => {
    const {dataDir, home: path} = home()
    expect(repairHome(path, dataDir)).toBeUndefined()
  })

  it('makes a loose key file 0600 again, inside a private home', () => {
    const {dataDir, home: path} = home()
    chmodSync(join(path, 'encryption.key'), 0o644)
    expect(repairHome(path, dataDir)).toBe(`Files under ${path} could be read or written by other users; synthex made 1 file or directory private (chmod go-rwx).`)
    expect((statSync(join(path, 'encryption.key')).mode & 0o777).toString(8)).toBe('600')
  })

  it('leaves a home that holds other files as it is, making only its own entries private', () => {
    const {dataDir, home: path} = home()
    writeFileSync(join(path, 'notes.txt'), 'mine', {mode: 0o644})
    chmodSync(path, 0o755)
    chmodSync(dataDir, 0o755)
    expect(repairHome(path, dataDir)).toBe(
      `${path} (mode 0755) can be read by other users and is not synthex's alone, so it was left as it is; synthex made its own 1 file or directory in it private. Point SYNTHEX_HOME at a directory of its own.`,
    )
    expect((statSync(path).mode & 0o777).toString(8)).toBe('755')
    expect((statSync(join(path, 'notes.txt')).mode & 0o777).toString(8)).toBe('644')
    expect(shared(dataDir)).toEqual([])
  })

  it('does not follow a link out of the data directory', () => {
    const {dataDir, home: path} = home()
    const outside = join(scratch(), 'elsewhere')
    writeFileSync(outside, 'not synthex\'s', {mode: 0o644})
    symlinkSync(outside, join(dataDir, 'link'))
    chmodSync(path, 0o777)
    expect(makeTreePrivate(path)).toBeGreaterThan(0)
    expect((statSync(outside).mode & 0o777).toString(8)).toBe('644')
  })
})
