import {BaseCommand} from '../../../cli/base-command.js'
import {type ChannelView, listChannels} from '../../../services/alerts/channels.js'
import {channelEnvironment} from '../../../config/environment.js'
import {csvFlag} from '../../../cli/common-flags.js'
import {example} from '../../../cli/example.js'

export default class ChannelsList extends BaseCommand<typeof ChannelsList> {
  static override description = 'Lists the channels alerts go to: stored ones, those defined by the environment (SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY, SENDGRID_API_KEY, SMTP_URL), or the console when there is none. Secrets are never shown.'
  static override examples = [
    example('', 'Where do alerts go?'),
    example('--json', 'As JSON.'),
  ]

  static override flags = {
    csv: csvFlag(),
  }

  static override summary = 'List notification channels.'

  async run(): Promise<{channels: ChannelView[]}> {
    const channels = await listChannels(await this.db(), channelEnvironment())
    if (!this.jsonEnabled()) {
      this.output.list(
        channels,
        [
          {header: 'Name', key: 'name', value: (channel) => channel.name},
          {header: 'Type', key: 'type', value: (channel) => channel.type},
          {header: 'From', key: 'source', value: (channel) => channel.source},
          {header: 'Min severity', key: 'min_severity', value: (channel) => channel.minSeverity},
          {header: 'Rate', key: 'rate', value: (channel) => `${channel.limits.perMinute}/min x${channel.limits.concurrency}`},
          {header: 'Settings', key: 'settings', value: (channel) => Object.entries(channel.settings).map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`).join(' ')},
        ],
        {csv: this.flags.csv, empty: 'No channels.'},
      )
    }

    return {channels}
  }
}
