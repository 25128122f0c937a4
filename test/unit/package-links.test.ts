import {existsSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {REPOSITORY_URL, repositoryFile} from '../../src/domain/repository.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {files: string[]; repository?: {url?: string}}
const README = readFileSync(`${ROOT}README.md`, 'utf8')

/** Whether the npm package holds `path` (package.json "files", as npm reads the simple patterns used there). */
function shipped(path: string): boolean {
  return pkg.files.some((pattern) => {
    const expression = pattern.replaceAll('.', '\\.').replaceAll('**/', '(?:.*/)?').replaceAll('*', '[^/]*')
    return new RegExp(`^${expression}(?:/.*)?$`).test(path)
  })
}

describe('links in the package (issue 13, point 8)', () => {
  it('names the repository in package.json, as the links to it say', () => {
    expect(pkg.repository?.url).toBe(`git+${REPOSITORY_URL}.git`)
    expect(repositoryFile('examples/crontab')).toBe(`${REPOSITORY_URL}/blob/main/examples/crontab`)
  })

  it('links from the README only to files the package ships, or to the repository for the others', () => {
    const targets = [...README.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string)
    const relative = targets.filter((target) => !/^(?:https?:|mailto:|#)/.test(target))
    expect(relative.filter((target) => !shipped(target.replace(/#.*$/, '')))).toEqual([])
    // The repository links name files that exist in it.
    const intoRepository = targets.filter((target) => target.startsWith(`${REPOSITORY_URL}/`)).map((target) => target.replace(/^.*?\/(?:blob|tree)\/main\//, ''))
    expect(intoRepository).toEqual(expect.arrayContaining(['examples/tenants.csv', 'examples/crontab', 'docs/architecture.md']))
    for (const path of intoRepository) expect(existsSync(`${ROOT}${path}`), path).toBe(true)
  })
})
