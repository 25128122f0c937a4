import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {fleetMetrics, pushMetrics, renderMetrics, writeTextfile} from '../../services/telemetry/metrics.js'
import type {MetricFamily} from '../../exporters/prometheus-text.js'
import {pushgatewayCredentials} from '../../config/environment.js'
import {example} from '../../cli/example.js'

export default class Metrics extends BaseCommand<typeof Metrics> {
  static override description = `Prints fleet figures in the Prometheus text format: tenants by workspace, type and status; credentials by status and the days to the next expiry; firing alerts by severity; the outbox by state; the last alerts check-now; command runs, errors and a duration histogram; and the latest health check, overall and per check (1 healthy, 0.5 degraded, 0 unhealthy).

--textfile writes them atomically for node_exporter's textfile collector (name the file *.prom); --push sends them to a Prometheus Pushgateway (job "synthex" unless the URL names one). Run either from cron.`

  static override examples = [
    example('', 'Print the metrics.'),
    example('--textfile /var/lib/node_exporter/textfile_collector/synthex.prom', 'For node_exporter (from cron).'),
    example('--push http://pushgateway:9091', 'To a Pushgateway.'),
    {
      command: 'SYNTHEX_PUSHGATEWAY_USER=ci SYNTHEX_PUSHGATEWAY_PASSWORD="$PUSH_PASSWORD" <%= config.bin %> <%= command.id %> --push https://push.example.com',
      description: 'To a Pushgateway behind basic auth, the password kept out of argv.',
    },
  ]

  static override flags = {
    push: Flags.string({
      description: 'Send the metrics to this Prometheus Pushgateway. Basic auth: SYNTHEX_PUSHGATEWAY_USER and SYNTHEX_PUSHGATEWAY_PASSWORD (or user:password@ in the URL).',
      helpValue: '<url>',
    }),
    textfile: Flags.string({description: "Write the metrics to this file atomically (node_exporter's textfile collector).", helpValue: '<path>'}),
  }

  static override summary = 'Fleet metrics for Prometheus (print, textfile, or Pushgateway).'

  async run(): Promise<{metrics: MetricFamily[]; pushed?: string; textfile?: string}> {
    const {push, textfile} = this.flags
    const families = await fleetMetrics(await this.db())
    const text = renderMetrics(families)
    if (textfile) {
      await writeTextfile(textfile, text)
      this.output.success(`Wrote ${families.length} metrics to ${textfile}.`)
    }

    let pushed: string | undefined
    if (push) {
      if (hasPassword(push)) {
        this.output.warn('--push holds a password, which other users can see in the process list; set SYNTHEX_PUSHGATEWAY_USER and SYNTHEX_PUSHGATEWAY_PASSWORD instead.')
      }


      const credentials = pushgatewayCredentials()
      pushed = (await pushMetrics(push, text, {credentials})).url
      this.output.success(`Pushed ${families.length} metrics to the Pushgateway at ${pushed}.`)
    }

    if (!textfile && !push && !this.jsonEnabled()) process.stdout.write(text)
    return {metrics: families, ...(pushed ? {pushed} : {}), ...(textfile ? {textfile} : {})}
  }
}

/** Whether a URL carries a password (user:password@); an unparseable one is --push's error to report. */
function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== ''
  } catch {
    return false
  }
}
