import {Flags, type Interfaces} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {toErrorReport} from '../../cli/error-report.js'
import {checkHealth, type HealthReport, type HealthStatus} from '../../services/health/health.js'
import {healthMetrics, renderMetrics} from '../../services/telemetry/metrics.js'
import {terminalLine} from '../../text/terminal-text.js'
import {channelEnvironment, providerEnvironment} from '../../config/environment.js'
import {example} from '../../cli/example.js'

const ICONS: Record<HealthStatus, string> = {degraded: '!', healthy: '✓', unhealthy: '✗'}
const NAGIOS: Record<HealthStatus, {code: number; word: string}> = {
  degraded: {code: 1, word: 'WARNING'},
  healthy: {code: 0, word: 'OK'},
  unhealthy: {code: 2, word: 'CRITICAL'},
}

export default class HealthCheck extends BaseCommand<typeof HealthCheck> {
  // Pending migrations are a finding of this command, not a reason to refuse to run.
  static override databaseMigrations = 'report' as const
  static override description = `Runs every check at once, each under --timeout, and reports each as healthy, degraded or unhealthy with the reason and how long it took. The overall status is the worst of them.

Checks: the database (reachable; degraded when a round trip exceeds --max-latency), migrations (up to date), encryption (the key opens a stored credential), credentials (expired: unhealthy; expiring within 7 days: degraded), credential_verification (a tenant with an active credential whose latest \`credentials verify\` answer is rejected or missing scopes: degraded; credentials never verified are counted, not failed), channels (at least one configured), deliveries (notifications failed in the last day, waiting on a provider that refused them, or pending for over an hour: degraded, naming each channel, how many, since when and the next attempt) and cron (the last \`alerts check-now\` older than --cron-max-age: degraded, a dead-man's switch). With --deep, also each channel's endpoint and the Shopify and Google APIs (a TCP connection; nothing is sent; base URLs from SYNTHEX_SHOPIFY_API_URL and SYNTHEX_GOOGLE_API_URL).

Exit codes: 0 healthy or degraded (degraded prints a warning), 3 unhealthy, or 3 on degraded too with --fail-on degraded. --format nagios uses the monitoring-plugin codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Every run is recorded: the health_failing alert rule pages when several runs in a row are unhealthy.`

  static override examples = [
    example('', 'Check everything; exit 3 if anything is unhealthy.'),
    example('--fail-on degraded --json', 'A strict deploy gate for CI, with a JSON report.'),
    example('--format nagios --timeout 3s', 'A Nagios / Icinga check command.'),
    example('--deep --format prometheus', 'Also probe the channels and APIs; print Prometheus metrics.'),
  ]

  static override flags = {
    'cron-max-age': Flags.string({default: '15m', description: 'Degraded when the last `alerts check-now` is older than this.', helpValue: '<duration>'}),
    deep: Flags.boolean({description: 'Also check that every channel endpoint and the Shopify and Google APIs are reachable.'}),
    'fail-on': Flags.option({default: 'unhealthy', description: 'Exit 3 at this status or worse.', options: ['degraded', 'unhealthy'] as const})(),
    format: Flags.option({default: 'text', description: 'Output format.', options: ['text', 'json', 'prometheus', 'nagios'] as const})(),
    'max-latency': Flags.string({default: '250ms', description: 'Database round trip above which it is degraded.', helpValue: '<duration>'}),
    timeout: Flags.string({default: '5s', description: 'How long each check may take before it counts as unhealthy.', helpValue: '<duration>'}),
  }

  static override summary = 'Check the health of the whole setup (for CI gates and monitoring).'

  /** A monitoring plugin that cannot decide says UNKNOWN (3), never WARNING or CRITICAL by accident. */
  override async catch(error: Interfaces.CommandError): Promise<void> {
    const nagios = (this.flags as {format?: string} | undefined)?.format === 'nagios' || /(^| )--format[= ]nagios( |$)/.test(this.argv.join(' '))
    if (!nagios || (error as {code?: string}).code === 'EEXIT') return super.catch(error)
    process.stdout.write(`SYNTHEX UNKNOWN - ${terminalLine(toErrorReport(error).message.split('\n')[0] ?? '')}\n`)
    process.exitCode = 3
  }

  async run(): Promise<HealthReport> {
    const {deep, 'fail-on': failOn, format} = this.flags
    const timeoutMs = Math.max(1, durationFlag('timeout', this.flags.timeout, {max: 3_600_000}))
    // A server that does not answer fails the database check, and must not hold the command longer.
    this.connectTimeoutMs = timeoutMs
    const report = await checkHealth({
      cronMaxAgeMs: durationFlag('cron-max-age', this.flags['cron-max-age']),
      deep,
      channelEnvironment: channelEnvironment(),
      keyring: () => this.keyring({sealing: false}),
      latencyThresholdMs: durationFlag('max-latency', this.flags['max-latency']),
      open: () => this.db(),
      providers: providerEnvironment(),
      record: true,
      timeoutMs,
      workspaceId: async () => (await this.workspace()).id,
    })

    if (format === 'nagios') {
      this.printNagios(report)
      process.exitCode = NAGIOS[report.status].code
      return report
    }

    if (!this.jsonEnabled()) {
      if (format === 'json') this.output.json(report)
      else if (format === 'prometheus') process.stdout.write(renderMetrics(healthMetrics(report)))
      else this.printText(report)
    }

    if (report.status === 'degraded' && !this.jsonEnabled() && format === 'text') this.output.warn(`Degraded: ${report.checks.filter((check) => check.status === 'degraded').map((check) => check.name).join(', ')}.`)
    if (report.status === 'unhealthy' || (failOn === 'degraded' && report.status === 'degraded')) process.exitCode = 3
    return report
  }

  private printNagios(report: HealthReport): void {
    // Checks skipped because the database is down add nothing to the line the pager shows.
    const bad = report.checks.filter((check) => check.status !== 'healthy' && !check.reason.startsWith('not checked'))
    const summary = bad.length === 0 ? `${report.checks.length} checks healthy` : bad.map((check) => `${check.name}: ${check.reason}`).join('; ')
    // Performance data: label=value[UOM]; the label quoted when it has a space.
    const perf = report.checks
      .filter((check) => check.value !== undefined)
      .map((check) => `'${check.name.replaceAll("'", '')}'=${check.value?.value}${check.value?.unit}`)
    process.stdout.write(`SYNTHEX ${NAGIOS[report.status].word} - ${terminalLine(summary).replaceAll('|', '/')}${perf.length > 0 ? ` | ${perf.join(' ')}` : ''}\n`)
  }

  private printText(report: HealthReport): void {
    const colour = (status: HealthStatus) => (status === 'healthy' ? 'green' : status === 'degraded' ? 'yellow' : 'red')
    const paint = (status: HealthStatus, text: string): string => this.output.paint('stdout', colour(status), text)
    // Colour through the column's style: the table escapes control characters in its cells.
    this.output.table(report.checks, [
      {header: '', key: 'status', style: (check) => colour(check.status), value: (check) => ICONS[check.status]},
      {header: 'Check', key: 'name', value: (check) => check.name},
      {header: 'Status', key: 'status', style: (check) => colour(check.status), value: (check) => check.status},
      {header: 'Took', key: 'duration_ms', value: (check) => `${Math.round(check.durationMs)} ms`},
      {header: 'Reason', key: 'reason', value: (check) => check.reason},
    ])
    process.stdout.write(`\n${paint(report.status, `${ICONS[report.status]} ${report.status}`)} (${report.checks.length} checks in ${Math.round(report.durationMs)} ms)\n`)
  }
}
