import {execFile} from 'node:child_process'
import {mkdtemp} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {describe, expect, inject, it} from 'vitest'

import {cliEnv, runCli} from '../helpers/cli.js'

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
})
