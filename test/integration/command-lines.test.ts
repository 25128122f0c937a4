import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {
  checkArgv,
  checkCommandLines,
  checkFile,
  checkUsage,
  findInvocations,
  formatProblems,
  loadManifest,
  manifestExamples,
  type CommandLineResult,
} from '../helpers/command-lines.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const EXAMPLES = join(ROOT, 'examples')
const manifest = loadManifest()

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name)
      return statSync(path).isDirectory() ? walk(path) : [path]
    })
}

/** The files of examples/ that hold command lines (the CSV is data). */
const exampleFiles = walk(EXAMPLES)
  .map((path) => relative(ROOT, path))
  .filter((path) => !path.endsWith('.csv'))

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')
const commandsOf = (results: readonly CommandLineResult[]): string[] => results.map((result) => result.command ?? '?')
const problemsOf = (line: string): string[] => checkCommandLines(line, manifest).flatMap((result) => result.problems)

describe('the command-line checker', () => {
  it('rejects a command that does not exist, naming what does', () => {
    const [result, ...others] = checkCommandLines('npx synthex tenant tenants frobnicate --json', manifest)
    expect(others).toEqual([])
    expect(result?.command).toBeUndefined()
    expect(result?.problems).toEqual([expect.stringMatching(/^"tenant tenants frobnicate" is not a synthex command; under "tenant tenants" there are: .*tenant tenants list/)])
    expect(problemsOf('synthex tenant tenant list')).toEqual([expect.stringContaining('did you mean "tenant tenants"?')])
    expect(problemsOf('synthex alerts rules frobnicate')).toEqual([expect.stringMatching(/"alerts rules" takes no arguments, got "frobnicate"/)])
  })

  it('rejects a flag that does not exist, or a value a flag does not take', () => {
    expect(problemsOf('synthex health check --fail-on sometimes')).toEqual(['--fail-on of "health check" got "sometimes", which is not one of: degraded, unhealthy'])
    expect(problemsOf('synthex health check --colour')).toEqual([expect.stringMatching(/^unknown flag --colour for "health check" \(did you mean --color\?\); its flags are: .*--no-color/)])
    expect(problemsOf('synthex health check --format=yaml')).toEqual([expect.stringContaining('got "yaml", which is not one of: text, json, prometheus, nagios')])
    expect(problemsOf('synthex health check --deep=yes')).toEqual(['--deep is a switch of "health check" and takes no value (got "yes")'])
    expect(problemsOf('synthex health check --timeout')).toEqual(['--timeout of "health check" needs a value'])
    expect(problemsOf('synthex health check -x')).toEqual(['unknown flag -x for "health check"'])
    expect(problemsOf('synthex tenant tenants list --csv --json')).toEqual(['--csv and --json of "tenant tenants list" cannot be used together'])
  })

  it('checks arguments and required flags', () => {
    expect(problemsOf('synthex batch tenants create')).toEqual(['"batch tenants create" needs --from-csv'])
    expect(problemsOf('synthex tenant tenants get')).toEqual(['"tenant tenants get" needs its argument <tenant-id>'])
    expect(problemsOf('synthex tenant tenants get a b')).toEqual(['too many arguments for "tenant tenants get" (takes <tenant-id>): "b"'])
    expect(problemsOf('synthex alerts rules set health_failed --runs 2')).toEqual([expect.stringContaining('<rule> of "alerts rules set" got "health_failed"')])
    expect(problemsOf('synthex help tenant tenants frob')).toEqual(['"help tenant tenants frob": "tenant tenants frob" is not a synthex command or topic'])
    // --help stands in for whatever the command would need.
    expect(problemsOf('synthex batch tenants create --help')).toEqual([])
  })

  it('accepts global flags, negations, short flags, placeholders and topics', () => {
    for (const line of [
      'synthex',
      'synthex --version',
      'synthex --help',
      'synthex alerts',
      'synthex tenant tenants --help',
      'synthex help batch tenants create',
      'synthex autocomplete bash',
      'synthex health check --no-color --json --database-url "$DATABASE_URL" -w clients',
      'synthex tenant tenants list -wclients --workspace=clients --limit=5',
      'synthex alerts list --severity <severity>',
      'synthex credentials get <tenant-id> --service "$SERVICE"',
      'synthex tenant tenants update acme-us --region ""',
      'synthex batch tenants create --from-csv - --atomic',
      'synthex tenant tenants get -- -odd-id',
    ]) {
      expect({line, problems: problemsOf(line)}).toEqual({line, problems: []})
    }
  })

  it('finds synthex wherever a shell would run it, and nowhere else', () => {
    const text = [
      '# npx synthex health check --frobnicate   (a comment)',
      'npx synthex db migrate && npx synthex tenant tenants list --csv > tenants.csv',
      "      sh 'npx synthex batch tenants create --from-csv tenants/new.csv --on-conflict skip'",
      'export KEY="$(synthex credentials get acme-us --service shopify --reveal)"',
      'printf %s "$TOKEN" | ./node_modules/.bin/synthex credentials set acme-us \\',
      '    --service shopify --value-stdin 2>&1 | logger',
      'ExecStart=/usr/local/bin/synthex alerts check-now',
      '*/5 * * * * cd /srv && npm run synthex -- health check --format nagios # every 5 minutes',
      'node bin/run.js usage report --since 7d; echo done',
      'sudo -u synthex synthex metrics --textfile /tmp/synthex.prom',
      'cat ~/.synthex/encryption.key /etc/synthex/env postgres://synthex@db/synthex synthex.prom',
      'stage("Verify") { sh "npx synthex health check --fail-on degraded" } // synthex frobnicate',
    ].join('\n')
    const results = checkCommandLines(text, manifest)
    expect(formatProblems(results, 'text')).toBe('')
    expect(results.map(({argv, command, line}) => ({argv: argv.join(' '), command, line}))).toEqual([
      {argv: 'db migrate', command: 'db migrate', line: 2},
      {argv: 'tenant tenants list --csv', command: 'tenant tenants list', line: 2},
      {argv: 'batch tenants create --from-csv tenants/new.csv --on-conflict skip', command: 'batch tenants create', line: 3},
      {argv: 'credentials get acme-us --service shopify --reveal', command: 'credentials get', line: 4},
      {argv: 'credentials set acme-us --service shopify --value-stdin', command: 'credentials set', line: 5},
      {argv: 'alerts check-now', command: 'alerts check-now', line: 7},
      {argv: 'health check --format nagios', command: 'health check', line: 8},
      {argv: 'usage report --since 7d', command: 'usage report', line: 9},
      {argv: 'metrics --textfile /tmp/synthex.prom', command: 'metrics', line: 10},
      {argv: 'health check --fail-on degraded', command: 'health check', line: 12},
    ])
  })

  it('checks usage synopses and oclif help output in Markdown', () => {
    expect(checkUsage('$ synthex health check [--json] [-w <slug>] [--fail-on degraded|unhealthy] [--format text|json]', manifest)).toMatchObject({command: 'health check', problems: []})
    expect(checkUsage('$ synthex batch tenants create --from-csv <file or -> [--from-env <NAME> | --value-stdin]', manifest, {firstLine: 7})).toMatchObject({
      line: 7,
      problems: ['unknown flag --from-env for "batch tenants create"', 'unknown flag --value-stdin for "batch tenants create"'].map((problem) => expect.stringContaining(problem)),
    })
    expect(checkUsage('$ synthex health check [--fail-on degraded|never]', manifest).problems).toEqual(['--fail-on of "health check" got "never", which is not one of: degraded, unhealthy'])

    const markdown = [
      '# A command', //                                                  1
      '```', //                                                          2
      'USAGE', //                                                        3
      '  $ synthex health check [--json] [--fail-on degraded|unhealthy]', // 4
      '    [--colour]', //                                              5
      '', //                                                             6
      'DESCRIPTION', //                                                  7
      '  Prose that mentions `synthex frobnicate`, which runs nothing.', // 8
      '', //                                                             9
      'EXAMPLES', //                                                     10
      '  The gate, mentioning `synthex health check --nope` in passing.', // 11
      '', //                                                             12
      '    $ synthex health check --fail-on degraded \\', //           13
      '      --colour', //                                              14
      '```', //                                                          15
      '', //                                                             16
      '```sh', //                                                        17
      'npm install --save-dev synthex && npx synthex tenant tenants get <tenant-id>', // 18
      'npx synthex batch tenants create --from-csv - < tenants/new.csv', // 19
      '```', //                                                          20
      'Outside code: synthex frobnicate', //                             21
    ].join('\n')
    const results = checkFile('README.md', markdown, manifest)
    expect(results.map(({command, line, problems}) => ({command, line, problems}))).toEqual([
      {command: 'health check', line: 13, problems: [expect.stringMatching(/^unknown flag --colour for "health check"/)]},
      {command: 'tenant tenants get', line: 18, problems: []},
      {command: 'batch tenants create', line: 19, problems: []},
      {command: 'health check', line: 4, problems: [expect.stringMatching(/^unknown flag --colour for "health check"/)]},
    ])
  })

  it('keeps npm from taking synthex flags', () => {
    expect(findInvocations('npm run synthex health check --json')[0]?.npmRun).toBe(true)
    expect(problemsOf('npm run synthex health check --json')).toEqual([expect.stringContaining('npm takes the flags itself: write `npm run synthex -- health check --json`')])
    expect(checkArgv(['health', 'check', '--json'], manifest)).toEqual({command: 'health check', problems: []})
  })
})

describe('examples/', () => {
  it('has the CI, cron and systemd examples', () => {
    expect(exampleFiles).toEqual(
      expect.arrayContaining(['examples/github-actions.yml', 'examples/gitlab-ci.yml', 'examples/Jenkinsfile', 'examples/crontab', 'examples/systemd/synthex-alerts.service', 'examples/systemd/synthex-alerts.timer', 'examples/systemd/synthex-serve.service', 'examples/systemd/synthex.env', 'examples/README.md']),
    )
  })

  it('has YAML that parses, in the shape GitHub Actions and GitLab CI expect', () => {
    const github = parse(read('examples/github-actions.yml')) as Record<string, unknown>
    expect(github).toMatchObject({concurrency: expect.anything(), jobs: expect.any(Object), on: {push: {branches: ['main'], paths: ['tenants/**']}}})
    const jobs = Object.values(github.jobs as Record<string, {steps: Array<Record<string, unknown>>}>)
    expect(jobs.length).toBeGreaterThan(0)
    for (const job of jobs) {
      expect(job).toMatchObject({'runs-on': expect.any(String), steps: expect.any(Array)})
      for (const step of job.steps) expect(Boolean(step.run) !== Boolean(step.uses)).toBe(true)
    }

    const steps = jobs.flatMap((job) => job.steps)
    expect(steps).toContainEqual(expect.objectContaining({uses: expect.stringMatching(/^actions\/setup-node@/), with: expect.objectContaining({'node-version': 20})}))
    expect(steps).toContainEqual(expect.objectContaining({if: 'failure()', with: expect.objectContaining({path: 'rejects.csv'})}))
    expect(steps).toContainEqual(expect.objectContaining({name: 'Verify deployment', run: expect.stringContaining('synthex health check')}))

    const gitlab = parse(read('examples/gitlab-ci.yml')) as Record<string, unknown>
    expect(gitlab.stages).toEqual(['provision', 'verify'])
    const gitlabJobs = Object.entries(gitlab).filter(([name, value]) => !name.startsWith('.') && typeof value === 'object' && value !== null && 'script' in value)
    expect(gitlabJobs.map(([name]) => name)).toEqual(['provision', 'verify'])
    for (const [, job] of gitlabJobs) {
      expect(job).toMatchObject({script: expect.any(Array), stage: expect.stringMatching(/^(provision|verify)$/)})
      for (const line of (job as {script: unknown[]}).script) expect(typeof line).toBe('string')
    }

    expect(gitlab.provision).toMatchObject({artifacts: {paths: ['rejects.csv'], when: 'on_failure'}})
  })

  it.each(exampleFiles)('%s runs only real commands with real flags', (path) => {
    const results = checkFile(path, read(path), manifest)
    expect(formatProblems(results, path)).toBe('')
  })

  it('runs the provisioning pipeline in every CI example, and alerts from cron and systemd', () => {
    const commands = (path: string): string[] => commandsOf(checkFile(path, read(path), manifest))
    for (const path of ['examples/github-actions.yml', 'examples/gitlab-ci.yml', 'examples/Jenkinsfile']) {
      expect({path, commands: commands(path)}).toEqual({path, commands: ['db migrate', 'batch tenants create', 'health check']})
      const batch = checkFile(path, read(path), manifest).find((result) => result.command === 'batch tenants create')
      expect(batch?.argv).toEqual(expect.arrayContaining(['--from-csv', 'tenants/new-tenants.csv', '--reject-file', 'rejects.csv']))
    }

    expect(commands('examples/crontab')).toEqual(['alerts check-now', 'metrics'])
    expect(commands('examples/systemd/synthex-alerts.service')).toEqual(['alerts check-now'])
    expect(commands('examples/systemd/synthex-serve.service')).toEqual(['serve'])
    // The timer starts a service, the README describes, the environment file holds settings.
    for (const path of exampleFiles.filter((each) => !each.endsWith('.timer') && !each.endsWith('.md') && !each.endsWith('.env'))) {
      expect(commands(path).length, path).toBeGreaterThan(0)
    }
  })

  it('has a timer that starts the alerts service every 5 minutes', () => {
    const timer = read('examples/systemd/synthex-alerts.timer')
    expect(timer).toMatch(/^\[Timer\]$/m)
    expect(timer).toMatch(/^OnCalendar=\*:0\/5$/m)
    expect(timer).toMatch(/^Persistent=true$/m)
    expect(timer).toMatch(/^WantedBy=timers\.target$/m)
    const unit = /^Unit=(.+)$/m.exec(timer)?.[1]
    expect(unit).toBe('synthex-alerts.service')
    const service = read(`examples/systemd/${unit}`)
    expect(service).toMatch(/^Type=oneshot$/m)
    expect(service).toMatch(/^EnvironmentFile=\/etc\/synthex\/env$/m)
  })

  it('has a serve service that reads the same settings file and stops gracefully', () => {
    const service = read('examples/systemd/synthex-serve.service')
    expect(service).toMatch(/^Type=exec$/m)
    expect(service).toMatch(/^EnvironmentFile=\/etc\/synthex\/env$/m)
    expect(service).toMatch(/^Restart=on-failure$/m)
    // Longer than serve's own drain (10 s), so that systemd does not SIGKILL a drain in progress.
    expect(Number(/^TimeoutStopSec=(\d+)s$/m.exec(service)?.[1])).toBeGreaterThan(10)
    const settings = read('examples/systemd/synthex.env')
    for (const name of ['DATABASE_URL', 'SYNTHEX_ENCRYPTION_KEY', 'SHOPIFY_WEBHOOK_SECRET', 'SYNTHEX_API_RATE_LIMIT']) expect(settings).toMatch(new RegExp(`^${name}=`, 'm'))
  })

  it('describes every example file in examples/README.md', () => {
    const readme = read('examples/README.md')
    for (const path of exampleFiles.filter((each) => each !== 'examples/README.md')) expect(readme).toContain(relative('examples', path))
  })
})

describe('oclif.manifest.json', () => {
  const visible = Object.values(manifest.commands).filter((command) => !command.hidden)

  it('has examples that are real commands with real flags', () => {
    const examples = manifestExamples(manifest)
    expect(examples.length).toBeGreaterThan(visible.length * 2 - 1)
    const problems = examples.flatMap(({id, text}) => {
      const results = checkCommandLines(text, manifest)
      if (results.length === 0) return [`${id}: no synthex command in example "${text}"`]
      return results.flatMap((result) => result.problems.map((problem) => `${id}: ${text}\n    ${problem}`))
    })
    expect(problems.join('\n')).toBe('')
  })

  it('documents every command and flag, with at least two examples', () => {
    const problems: string[] = []
    for (const command of visible) {
      if (!command.summary && !command.description) problems.push(`${command.id}: no summary or description`)
      if ((command.examples?.length ?? 0) < 2) problems.push(`${command.id}: ${command.examples?.length ?? 0} examples`)
      for (const flag of Object.values(command.flags)) {
        if (!flag.hidden && !flag.description && !flag.summary) problems.push(`${command.id}: --${flag.name} has no description`)
      }
    }

    expect(problems).toEqual([])
  })
})

describe('README.md', () => {
  it('runs only real commands with real flags in its code blocks', () => {
    // Read at run time: the README changes more often than this test.
    const results = checkFile('README.md', read('README.md'), manifest)
    expect(results.length).toBeGreaterThan(10)
    expect(formatProblems(results, 'README.md')).toBe('')
  })
})
