import {BaseCommand} from '../../cli/base-command.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'
import {type ApiKey, listApiKeys} from '../../services/api-keys/api-keys.js'

export default class ApiKeysList extends BaseCommand<typeof ApiKeysList> {
  static override description =
    'Lists the API keys of `synthex serve`: name, the first characters of the key (to recognise it, never the key), the user it acts for and its role, scopes, workspace, created, last used (to the minute), expiry and revocation. A key made without a user (before users existed) acts as a superadmin: its role reads "superadmin (legacy)", and in --json it has user null, role superadmin and legacy true.'

  static override examples = [
    example('', 'Every key.'),
    example('--json | jq \'.keys[] | select(.revokedAt == null) | .name\'', 'The names of keys still valid.'),
    example('--json | jq -r \'.keys[] | select(.legacy) | .name\'', 'The keys that act as a superadmin because they have no user.'),
  ]
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
          {header: 'User', key: 'user', value: (key) => key.user ?? '(none)'},
          {header: 'Role', key: 'role', value: (key) => (key.legacy ? `${key.role} (legacy)` : key.role)},
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
