import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {pingSubscription} from '../../services/webhooks/webhook-ping.js'

interface TestView {
  readonly answer: null | string
  readonly disabled: boolean
  readonly durationMs: number
  readonly error: null | string
  readonly messageId: string
  readonly ok: boolean
  readonly status: null | number
  readonly subscription: string
  readonly urlHost: string
}

export default class WebhooksTest extends BaseCommand<typeof WebhooksTest> {
  static override args = {
    name: Args.string({description: 'The subscription\'s name (from `synthex webhooks list`).', required: true}),
  }

  static override description = 'Sends a `ping` event ({"type":"ping","timestamp":"...","data":{"subscription":"<name>"}}) to the subscription\'s URL now, signed like every delivery, and shows what the receiver answered: its status and the start of its body. The ping is not stored and not retried. Exit 1 unless the receiver answered 2xx.'
  static override examples = [
    example('crm', 'Is the receiver up, and does it accept our signature?'),
    example('crm --json', 'The answer as JSON.'),
  ]

  static override summary = 'Send a ping to a webhook subscription.'

  async run(): Promise<TestView> {
    const result = await pingSubscription(await this.db(), this.keyring({sealing: false}), this.args.name)
    const {outcome} = result
    const view: TestView = {
      answer: outcome.kind === 'sent' ? outcome.answer : null,
      disabled: result.disabled,
      durationMs: Math.round(result.durationMs),
      error: outcome.kind === 'sent' ? null : outcome.kind === 'interrupted' ? 'interrupted before an answer' : outcome.error,
      messageId: result.messageId,
      ok: outcome.kind === 'sent',
      status: outcome.kind === 'interrupted' ? null : outcome.status,
      subscription: result.subscription,
      urlHost: result.urlHost,
    }
    if (!this.jsonEnabled()) {
      this.output.record([
        ['Subscription', `${view.subscription}${view.disabled ? ' (disabled)' : ''}`],
        ['Host', view.urlHost],
        ['webhook-id', view.messageId],
        ['Status', view.status ?? 'no answer'],
        ['Answer', view.ok ? view.answer : view.error],
        ['Took', `${view.durationMs} ms`],
      ])
    }

    if (view.disabled) this.output.info(`${view.subscription} is disabled: no delivery is sent to it until it is enabled again.`)
    if (!view.ok) {
      this.output.info(`The receiver did not accept the ping: exit 1.`)
      process.exitCode = 1
    }

    return view
  }
}
