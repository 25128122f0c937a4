import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'

import {Args} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {SynthexError} from '../../../errors/synthex-error.js'
import {type AlertMessage, DeliveryError} from '../../../notifiers/notifier.js'
import {notifierFor, resolveChannels} from '../../../services/alerts/channels.js'
import {excerpt, responseOf} from '../../../services/alerts/delivery/delivery-outcome.js'
import {channelEnvironment} from '../../../config/environment.js'
import {example} from '../../../cli/example.js'

export default class ChannelsTest extends BaseCommand<typeof ChannelsTest> {
  static override args = {
    name: Args.string({description: 'The channel (as `synthex alerts channels list` names it).', required: true}),
  }

  static override description = 'Sends a real test notification to a channel, right now and outside the outbox, and reports the provider\'s answer: "200 ok" from Slack, "202 Event processed" from PagerDuty, or its error verbatim (e.g. "HTTP 404: no_service"). On PagerDuty the test incident is resolved straight away.'
  static override examples = [
    example('ops-slack', 'Does the Slack webhook work?'),
    example('env-pagerduty --json', 'Test the channel defined by PAGERDUTY_ROUTING_KEY.'),
  ]

  static override summary = 'Send a test notification to a channel.'

  async run(): Promise<{channel: string; response: string; runId: string}> {
    const channels = await resolveChannels(await this.db(), this.keyring({sealing: false}), channelEnvironment())
    const spec = channels.find((channel) => channel.name === this.args.name)
    if (!spec) {
      throw new SynthexError(`There is no channel "${this.args.name}".`, {code: 'NOT_FOUND', hint: `Channels: ${channels.map((channel) => channel.name).join(', ')}.`})
    }

    // The run's id, as check-now runs have one: Slack's footer shows its first 8 characters.
    const runId = randomUUID()
    const run = runId.slice(0, 8)
    const fingerprint = `synthex-test-${runId}`
    const base = {
      alertId: null,
      details: {test: true},
      fingerprint,
      rule: 'test',
      severity: 'info' as const,
      startedAt: new Date().toISOString(),
      summary: `Test notification from synthex on ${hostname()} (run ${run}): this channel works.`,
      tenantId: 'test',
      tenantName: 'synthex',
      workspace: 'test',
    }
    const notifier = notifierFor(spec)
    const messages: AlertMessage[] = [{...base, kind: 'test'}]
    const signal = AbortSignal.timeout(30_000)
    try {
      const receipt = await notifier.send({messages, runId}, signal)
      // Shown as the outbox stores it: a bounded excerpt, whatever the provider answered.
      let response = responseOf(receipt)
      if (spec.type === 'pagerduty') response += `; ${responseOf(await notifier.send({messages: [{...base, kind: 'resolved'}], runId}, signal))}`
      this.output.success(`${spec.name} (${spec.type}) answered: ${response} (test run ${run})`)
      return {channel: spec.name, response, runId}
    } catch (error) {
      if (!(error instanceof DeliveryError)) throw error
      throw new SynthexError(`${spec.name} (${spec.type}) refused the test notification: ${excerpt(error.message)}`, {
        code: 'DELIVERY_FAILED',
        details: {channel: spec.name, runId, retryable: error.retryable, status: error.status ?? null},
        hint: error.retryable ? 'The provider may be down or rate limiting; try again in a minute.' : 'Check the channel\'s secret and settings; remove and add it again to change them.',
      })
    }
  }
}
