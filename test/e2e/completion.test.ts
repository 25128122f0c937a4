import {execFile} from 'node:child_process'
import {mkdtemp, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {describe, expect, inject, it} from 'vitest'

import {cliEnv, runCli} from '../helpers/cli.js'
import {installTarball, makeProject, shell, startRegistry} from '../helpers/installed-package.js'

describe('shell completion', () => {
  it('sets up bash completion that completes topics, commands and flags in a real bash', async () => {
    const home = await mkdtemp(join(inject('scratch'), 'completion-'))
    const env = {HOME: home, XDG_CACHE_HOME: join(home, '.cache')}
    const setup = await runCli(['autocomplete', 'bash'], {env})
    expect(setup.code, setup.stderr).toBe(0)
    expect(setup.stdout).toContain('synthex autocomplete script bash')

    const script = await runCli(['autocomplete', 'script', 'bash'], {env})
    expect(script.code, script.stderr).toBe(0)
    // What the user appends to ~/.bashrc, then <TAB> as bash's completion machinery calls it.
    const session = `${script.stdout}
fn=$(complete -p synthex | sed -E 's/.*-F ([^ ]+).*/\\1/')
tab() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}; COMPREPLY=(); "$fn"; echo "$*|\${COMPREPLY[*]}"; }
tab synthex hea
tab synthex tenant tenants li
tab synthex health check --fa
tab synthex batch tenants create --from`
    const {stdout} = await promisify(execFile)('bash', ['--norc', '-c', session], {env: cliEnv(env)})
    expect(stdout.trim().split('\n')).toEqual([
      'synthex hea|health',
      'synthex tenant tenants li|list',
      'synthex health check --fa|--fail-on',
      'synthex batch tenants create --from|--from-csv',
    ])
  })

  it('works for a local install by following the README literally (issue 13, point 8)', {timeout: 300_000}, async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
    const block = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string).find((code) => code.includes('autocomplete script bash'))
    expect(block).toBeDefined()
    const registry = await startRegistry(inject('dependencyTarballs'))
    try {
      const dir = await mkdtemp(join(inject('scratch'), 'completion-project-'))
      await makeProject(dir)
      await installTarball(dir, inject('tarball'), registry)
      // A user whose shell has no `synthex` on its PATH: only the project's copy, through npx.
      const env = {HOME: join(dir, 'home'), SYNTHEX_HOME: join(dir, 'home', '.synthex'), XDG_CACHE_HOME: undefined}
      await shell('mkdir -p "$HOME"', {cwd: dir, env})
      const setup = await shell(block as string, {cwd: dir, env})
      expect(setup.code, setup.stderr).toBe(0)

      // A new terminal: ~/.bashrc read, then <TAB> as bash's completion machinery calls it, then the word run.
      const session = `source ~/.bashrc
command -v synthex >/dev/null && [ "$(type -t synthex)" = function ] && echo "synthex is a function"
fn=$(complete -p synthex | sed -E 's/.*-F ([^ ]+).*/\\1/')
tab() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=\${#COMP_LINE}; COMPREPLY=(); "$fn"; echo "$*|\${COMPREPLY[*]}"; }
tab synthex hea
tab synthex tenant tenants li
synthex --version`
      const used = await shell(session, {cwd: dir, env})
      expect(used.code, used.stderr).toBe(0)
      const lines = used.stdout.trim().split('\n')
      expect(lines.slice(0, 3)).toEqual(['synthex is a function', 'synthex hea|health', 'synthex tenant tenants li|list'])
      expect(lines[3]).toMatch(/^synthex\/\d+\.\d+\.\d+ /)
    } finally {
      await registry.close()
    }
  })
})
