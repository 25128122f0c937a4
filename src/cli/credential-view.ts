import type {Credential} from '../services/credentials/credentials.js'
import type {Column} from './output.js'

export const CREDENTIAL_COLUMNS: ReadonlyArray<Column<Credential>> = [
  {header: 'Tenant', key: 'tenant_id', value: (credential) => credential.tenantId},
  {header: 'Service', key: 'service', value: (credential) => credential.service},
  {header: 'Label', key: 'label', value: (credential) => credential.label},
  {header: 'Version', key: 'version', value: (credential) => credential.version},
  {header: 'Fingerprint', key: 'fingerprint', value: (credential) => credential.fingerprint},
  {header: 'Expires at', key: 'expires_at', value: (credential) => credential.expiresAt},
  {header: 'Days left', key: 'days_left', value: (credential) => credential.daysLeft},
  {header: 'Time left', key: 'time_left', value: (credential) => credential.timeLeft},
  {header: 'Status', key: 'status', value: (credential) => credential.status},
]

/** The fleet-wide report also says which workspace each credential is in. */
export const EXPIRING_COLUMNS: ReadonlyArray<Column<Credential>> = [{header: 'Workspace', key: 'workspace', value: (credential) => credential.workspace}, ...CREDENTIAL_COLUMNS]

export function credentialRecord(credential: Credential): Array<[string, unknown]> {
  return [
    ['Tenant', credential.tenantId],
    ['Workspace', credential.workspace],
    ['Service', credential.service],
    ['Label', credential.label],
    ['Version', credential.version],
    ['Fingerprint', credential.fingerprint],
    ['Key', credential.keyId],
    ['Expires at', credential.expiresAt],
    ['Days left', credential.daysLeft],
    ['Time left', credential.timeLeft],
    ['Status', credential.status],
    ['Created', credential.createdAt],
  ]
}
