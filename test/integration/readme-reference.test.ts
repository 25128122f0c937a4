import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {describe, expect, it} from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

describe('the README command reference', () => {
  it('is what `oclif readme` generates from the commands as built (run `npm run readme` after changing a command)', async () => {
    const {stdout} = await promisify(execFile)(process.execPath, ['node_modules/oclif/bin/run.js', 'readme', '--no-source-links', '--no-aliases', '--dry-run'], {
      cwd: root,
      // oclif wraps at $COLUMNS: the width `npm run readme` uses.
      env: {...process.env, COLUMNS: '120', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
      maxBuffer: 16 * 1024 * 1024,
    })
    const readme = await readFile(`${root}README.md`, 'utf8')
    // oclif prints a line of its own first ("replacing <!-- commands --> in ..."): the markers are whole lines.
    const reference = (text: string): string => text.slice(text.search(/^<!-- commands -->$/m), text.search(/^<!-- commandsstop -->$/m))
    expect(reference(readme)).toContain('## `synthex batch tenants create`')
    // Compared section by section, so a failure names the command that changed.
    const sections = (text: string): Map<string, string> => new Map(reference(text).split(/^(?=## `)/m).map((section) => [section.split('\n')[0] ?? '', section]))
    const generated = sections(stdout)
    const committed = sections(readme)
    expect([...committed.keys()]).toEqual([...generated.keys()])
    for (const [heading, section] of generated) expect(committed.get(heading), heading).toBe(section)
  })
})
