import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {example} from '../../cli/example.js'
import {ROLE_SCOPES} from '../../services/access/roles.js'
import {API_SCOPES, type ApiKey, createApiKey, parseScopes} from '../../services/api-keys/api-keys.js'

export default class ApiKeysCreate extends BaseCommand<typeof ApiKeysCreate> {
  static override args = {
    name: Args.string({description: 'A name for the key: who or what uses it, e.g. zapier or ci-deploy.', required: true}),
  }

  static override description = `Makes a key for \`synthex serve\`'s API (\`Authorization: Bearer <key>\`) and prints it once, on stdout: synthex keeps only its SHA-256 hash, so store it now. Keys look like sxk_ followed by 36 letters and digits, the last 6 a checksum, so secret scanners recognise a leaked one.

Scopes: ${API_SCOPES.join(', ')}, or all. --user makes the key act for a user (\`synthex users create\`): it may do what both its scopes and the user's role allow, reaches what the user reaches, and stops working when the user is deactivated. A key without --user acts as a superadmin. --workspace limits the key to one workspace; without it the key reaches every workspace (its user's). Every change made with a key is audited with the key's name as actor and api as source.`

  static override examples = [
    example('zapier --scopes tenants:write', 'A key for Zapier to create tenants.'),
    example('prometheus --scopes metrics:read,health:read --expires-in 365d', 'A scraper\'s key that lapses in a year.'),
    example('acme-portal --scopes tenants:read,credentials:write --workspace acme-eu', 'A key that sees one workspace only.'),
    example('acme-merchant --user ops@acme.example --scopes tenants:read,credentials:read,credentials:write', 'A key acting for a client: its own tenants only.'),
    {command: 'KEY=$(<%= config.bin %> <%= command.id %> n8n --scopes health:read)', description: 'Capture it in a script (only the key goes to stdout).'},
  ]

  static override flags = {
    'expires-in': Flags.string({description: 'The key stops working after this long, e.g. 90d (default: never).', helpValue: '<duration>'}),
    scopes: Flags.string({description: `What the key may do, comma-separated: ${API_SCOPES.join(', ')}; or all.`, helpValue: '<scope,...>', required: true}),
    user: Flags.string({description: 'The user the key acts for, by email (see `synthex users list`); without it the key acts as a superadmin.', helpValue: '<email>'}),
  }

  static override summary = 'Make an API key for synthex serve (shown once).'

  async run(): Promise<ApiKey & {key: string}> {
    const scopes = parseScopes(this.flags.scopes)
    const expiresInMs = this.flags['expires-in'] === undefined ? undefined : durationFlag('expires-in', this.flags['expires-in'], {min: 60_000})
    const {apiKey, key} = await createApiKey(await this.db(), this.audit, {
      expiresAt: expiresInMs === undefined ? null : new Date(Date.now() + expiresInMs),
      name: this.args.name,
      scopes,
      user: this.flags.user,
      // Only an explicit --workspace limits a key; SYNTHEX_WORKSPACE is where commands work.
      workspace: this.flags.workspace,
    })
    if (!this.jsonEnabled()) {
      const actsFor = apiKey.user ? `, acting for ${apiKey.role} ${apiKey.user}` : ', acting as a superadmin'
      this.output.success(`Created API key ${apiKey.name} (${apiKey.prefix}…)${actsFor}, with ${apiKey.scopes.join(', ')}${apiKey.workspace ? ` in workspace ${apiKey.workspace}` : ''}${apiKey.expiresAt ? `, expiring ${apiKey.expiresAt.toISOString()}` : ''}.`)
      // `all` means whatever the role allows; scopes named one by one beyond it are likely a mistake.
      const beyond = this.flags.scopes.trim() === 'all' ? [] : apiKey.scopes.filter((scope) => !ROLE_SCOPES[apiKey.role].has(scope))
      if (beyond.length > 0) this.output.warn(`The user is ${apiKey.role === 'admin' ? 'an admin' : `a ${apiKey.role}`}, who may never use ${beyond.join(', ')}: the key has no use for ${beyond.length === 1 ? 'that scope' : 'those scopes'}.`)
      this.output.warn('Store the key now: it is not shown again.')
      process.stdout.write(`${key}\n`)
    }

    return {...apiKey, key}
  }
}
