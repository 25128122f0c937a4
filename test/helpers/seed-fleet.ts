import {derivedKeyId, Keyring} from '../../src/crypto/keyring.js'
import type {TenantFieldsInput} from '../../src/domain/tenant-fields.js'
import {type CredentialRef, setCredential} from '../../src/services/credentials/credentials.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {createWorkspace, findWorkspace} from '../../src/services/workspaces/workspaces.js'
import type {CliTarget} from './cli-backends.js'
import {withDatabase} from './inspect-database.js'

export interface FleetSeed {
  /** Sealed with the key the CLI gets as SYNTHEX_ENCRYPTION_KEY (base64, or id:base64); `credentials` need it. */
  readonly encryptionKey?: string
  /** Workspaces to create first (slugs). */
  readonly workspaces?: readonly string[]
  /** Tenants to create, in `workspace` (default: the default workspace). */
  readonly tenants?: ReadonlyArray<TenantFieldsInput & {readonly workspace?: string}>
  /** Credentials to set, in `workspace` (default: the default workspace). */
  readonly credentials?: ReadonlyArray<CredentialRef & {readonly expiresAt?: Date; readonly value: string; readonly workspace?: string}>
}

/**
 * Sets up a CLI target's workspaces, tenants and credentials through the same services the
 * commands call, in one opening of its database: where a test's subject is another command,
 * a CLI process per setup step costs seconds each on the embedded database (a 2-core CI
 * machine runs the suite twice within 15 minutes, see .ci/run). The events recorded are the
 * commands' own (actor `e2e`, source `cli`).
 */
export async function seedFleet(target: CliTarget, seed: FleetSeed): Promise<void> {
  const audit = {actor: 'e2e', source: 'cli'}
  const keyring = seed.encryptionKey === undefined ? undefined : testKeyring(seed.encryptionKey)
  await withDatabase(target, async (db) => {
    for (const slug of seed.workspaces ?? []) await createWorkspace(db, audit, {slug})
    for (const {workspace = 'default', ...fields} of seed.tenants ?? []) await createTenant(db, await findWorkspace(db, workspace), audit, fields)
    for (const {expiresAt, value, workspace = 'default', ...ref} of seed.credentials ?? []) {
      if (!keyring) throw new Error('seedFleet: credentials need the encryptionKey the CLI uses')
      await setCredential(db, keyring, await findWorkspace(db, workspace), audit, ref, {expiresAt, value})
    }
  })
}

/** The keyring a CLI given this SYNTHEX_ENCRYPTION_KEY (base64, or id:base64) seals with. */
function testKeyring(setting: string): Keyring {
  const colon = setting.indexOf(':')
  const key = Buffer.from(setting.slice(colon + 1), 'base64')
  return new Keyring({id: colon === -1 ? derivedKeyId(key) : setting.slice(0, colon), key})
}
