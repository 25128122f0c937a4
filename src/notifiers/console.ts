import {terminalLine} from '../text/terminal-text.js'
import {headline, SEVERITY_LABEL} from './format.js'
import type {AlertMessage, Delivery, DeliveryReceipt, Notifier, RateLimits} from './notifier.js'

/**
 * Alerts printed on stderr: the channel when no other is configured, so that the embedded
 * Quick start shows what it would have sent. One line per alert, its text made harmless
 * for a terminal (a tenant name can hold escape sequences or a newline that forges a line).
 */
export class ConsoleNotifier implements Notifier {
  readonly maxPerRequest = 1000
  readonly type = 'console'

  constructor(
    readonly limits: RateLimits,
    private readonly write: (text: string) => void = (text) => process.stderr.write(text),
  ) {}

  groupKey(_message: AlertMessage, runId: string): string {
    return runId
  }

  async send(delivery: Delivery): Promise<DeliveryReceipt> {
    for (const message of delivery.messages) {
      this.write(`[${SEVERITY_LABEL[message.severity]}] ${terminalLine(headline(message))} (workspace ${terminalLine(message.workspace)})\n`)
    }

    return {response: `printed ${delivery.messages.length}`}
  }
}
