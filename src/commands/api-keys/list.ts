import {BaseCommand} from '../../cli/base-command.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'
import {type ApiKey, listApiKeys} from '../../services/api-keys/api-keys.js'

export default class ApiKeysList extends BaseCommand<typeof ApiKeysList> {
  static override description = 'Lists the API keys of `synthex serve`: name, the first characters of the key (to recognise it, never the key), scopes, workspace, created, last used (to the minute), expiry and revocation.'
  static override examples = [example('', 'Every key.'), example('--json | jq \'.keys[] | select(.revokedAt == null) | .name\'', 'The names of keys still valid.')]
  static override flags = {csv: csvFlag()}
  static override summary = 'List API keys (never the keys themselves).'

  async run(): Promise<{keys: ApiKey[]}> {
    const keys = await listApiKeys(await this.db())
    if (!this.jsonEnabled()) {
      const now = Date.now()
      this.output.list(
        keys,
        [
          {header: 'Name', key: 'name', value: (key) => key.name},
          {header: 'Key', key: 'prefix', value: (key) => `${key.prefix}…`},
          {header: 'Scopes', key: 'scopes', value: (key) => key.scopes.join(',')},
          {header: 'Workspace', key: 'workspace', value: (key) => key.workspace ?? '(all)'},
          {header: 'Created', key: 'created_at', value: (key) => key.createdAt},
          {header: 'Last used', key: 'last_used_at', value: (key) => key.lastUsedAt},
          {header: 'Expires', key: 'expires_at', value: (key) => key.expiresAt},
          {header: 'State', key: 'state', value: (key) => (key.revokedAt ? 'revoked' : key.expiresAt && key.expiresAt.getTime() <= now ? 'expired' : 'active')},
        ],
        {csv: this.flags.csv, empty: 'No API keys yet. Make one with `synthex api-keys create <name> --scopes ...`.'},
      )
    }

    return {keys}
  }
}
