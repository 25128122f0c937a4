import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {integerFlag} from '../../cli/integer-flags.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {CREDENTIAL_COLUMNS} from '../../cli/credential-view.js'
import type {CredentialService} from '../../db/schema.js'
import {CREDENTIAL_SERVICES, type CredentialPage, listCredentials} from '../../services/credentials/credentials.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'

export default class CredentialsList extends BaseCommand<typeof CredentialsList> {
  static override description = `Lists the active credentials of the workspace (with --all, rotated and revoked versions too): tenant, service, label, version, fingerprint, expiry, days left and status (ok, expiring within 30 days, expired, revoked, rotated). Never the values. Paged like \`tenant tenants list\`.`
  static override examples = [
    example('', 'All active credentials.'),
    example('--tenant acme-us --all', 'Every version of one tenant\'s credentials.'),
    example('--service shopify --expiring-within 14d --csv', 'Shopify tokens lapsing in two weeks, for a spreadsheet.'),
  ]

  static override flags = {
    after: Flags.string({description: 'Start after this cursor (the nextCursor of the previous page).', helpValue: '<cursor>'}),
    all: Flags.boolean({description: 'Include rotated and revoked versions.'}),
    csv: csvFlag(),
    'expiring-within': Flags.string({description: 'Only credentials expiring within this long (expired ones included), e.g. 30d.', helpValue: '<duration>'}),
    limit: integerFlag({default: 100, description: 'Credentials per page.', max: 10_000, min: 1}),
    service: Flags.string({description: 'Only this service.', options: [...CREDENTIAL_SERVICES]}),
    tenant: Flags.string({description: 'Only this tenant.', helpValue: '<tenant-id>'}),
  }

  static override summary = 'List credentials and their expiry.'

  async run(): Promise<CredentialPage> {
    const {after, all, csv, 'expiring-within': within, limit, service, tenant} = this.flags
    // Flags are checked before the database is opened.
    const expiringWithinMs = within === undefined ? undefined : durationFlag('expiring-within', within)
    const page = await listCredentials(await this.db(), await this.workspace(), {
      after,
      all,
      expiringWithinMs,
      limit,
      service: service as CredentialService | undefined,
      tenantId: tenant,
    })
    if (!this.jsonEnabled()) {
      this.output.list(page.credentials, CREDENTIAL_COLUMNS, {csv, empty: 'No credentials match.'})
      if (page.nextCursor) this.output.info(`More credentials follow: add --after ${page.nextCursor} for the next page.`)
    }

    return page
  }
}
