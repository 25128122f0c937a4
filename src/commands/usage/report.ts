import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {usageReport, type UsageReport} from '../../services/telemetry/usage.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'

export default class UsageReportCommand extends BaseCommand<typeof UsageReportCommand> {
  static override description = 'Every synthex command that ran against this database is recorded (command, flag names without their values, exit code, duration, error class, actor). This reports, per command: runs, errors, error rate, average and 95th-percentile duration, and the last run. Commands that failed before reaching the database (usage errors, an unreachable server) are not in it.'
  static override examples = [
    example('', 'The last 7 days.'),
    example('--since 30d --json', 'The last 30 days, for a script.'),
    example('--csv > usage.csv', 'As CSV for a spreadsheet.'),
  ]

  static override flags = {
    csv: csvFlag(),
    since: Flags.string({default: '7d', description: 'How far back, e.g. 24h, 7d, 30d.', helpValue: '<duration>'}),
  }

  static override summary = 'Commands run, error rates and durations.'

  async run(): Promise<UsageReport> {
    const since = new Date(Date.now() - durationFlag('since', this.flags.since))
    const report = await usageReport(await this.db(), since)
    if (!this.jsonEnabled()) {
      this.output.list(
        report.commands,
        [
          {header: 'Command', key: 'command', value: (row) => row.command},
          {header: 'Runs', key: 'runs', value: (row) => String(row.runs)},
          {header: 'Errors', key: 'errors', value: (row) => String(row.errors)},
          {header: 'Error rate', key: 'error_rate', value: (row) => `${(row.errorRate * 100).toFixed(1)}%`},
          {header: 'Avg ms', key: 'average_ms', value: (row) => row.averageMs.toFixed(0)},
          {header: 'p95 ms', key: 'p95_ms', value: (row) => row.p95Ms.toFixed(0)},
          {header: 'Last run', key: 'last_run_at', value: (row) => row.lastRunAt.toISOString()},
        ],
        {csv: this.flags.csv, empty: `No command has run since ${since.toISOString()}.`},
      )
      if (!this.flags.csv && report.totals.runs > 0) {
        const {averageMs, errorRate, errors, p95Ms, runs} = report.totals
        process.stdout.write(`\n${runs} run${runs === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'} (${(errorRate * 100).toFixed(1)}%), average ${averageMs.toFixed(0)} ms, p95 ${p95Ms.toFixed(0)} ms since ${since.toISOString()}\n`)
      }
    }

    return report
  }
}
