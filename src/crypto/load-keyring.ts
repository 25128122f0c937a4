import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {ConfigError} from '../config/config-error.js'
import type {DatabaseTarget} from '../config/settings.js'
import {MissingKeyError} from './crypto-errors.js'
import {derivedKeyId, Keyring, type MasterKey} from './keyring.js'
import type {KeyEnvironment} from '../config/environment.js'

const KEY_BYTES = 32
const KEY_ID = /^[\w-]{1,32}$/
const MAKE_A_KEY = 'Make one with `openssl rand -base64 32` (or `node -e "console.log(crypto.randomBytes(32).toString(\'base64\'))"`)'

export interface LoadedKeyring {
  readonly keyring: Keyring
  /** Things worth telling the user, e.g. that a key file was just created or is readable by others. */
  readonly notices: string[]
}

export interface KeyringOptions {
  /** Create the embedded key file if there is none (only when about to encrypt). */
  readonly createKeyFile: boolean
}

/**
 * Loads the encryption keys: SYNTHEX_ENCRYPTION_KEY (base64 or id:base64) encrypts and
 * decrypts; SYNTHEX_ENCRYPTION_KEYS (id:base64,...) only decrypts, for key rotation. With
 * the embedded database and no SYNTHEX_ENCRYPTION_KEY, the key lives in a file created with
 * mode 0600 in $SYNTHEX_HOME. A server database gets no such file: its key must be shared by
 * every machine using it, so it has to be configured, and storing refuses until it is.
 * Never includes a key's bytes in an error.
 */
export function loadKeyring(keys: KeyEnvironment, database: DatabaseTarget, options: KeyringOptions): LoadedKeyring {
  const notices: string[] = []
  const others = parseKeyList(keys.encryptionKeys)
  const configured = keys.encryptionKey?.trim() ? parseKey(keys.encryptionKey, 'SYNTHEX_ENCRYPTION_KEY') : undefined

  checkDistinctIds(configured ? [configured, ...others] : others)
  if (database.kind === 'server') return {keyring: new Keyring(configured, others), notices}

  const file = join(database.home, 'encryption.key')
  let fileKey: MasterKey | undefined
  if (existsSync(file)) {
    fileKey = parseKey(readFileSync(file, 'utf8'), file)
    if ((statSync(file).mode & 0o077) !== 0) notices.push(`${file} can be read by other users; restrict it with \`chmod 600 ${file}\`.`)
  } else if (!configured && options.createKeyFile) {
    const key = randomBytes(KEY_BYTES)
    fileKey = {id: derivedKeyId(key), key}
    mkdirSync(database.home, {mode: 0o700, recursive: true})
    writeFileSync(file, `${fileKey.id}:${key.toString('base64')}\n`, {flag: 'wx', mode: 0o600})
    notices.push(`Created the encryption key ${file} (mode 0600). Back it up: the credentials cannot be decrypted without it.`)
  }

  // An explicit key wins; the file's key still decrypts what it encrypted, until `rekey`.
  if (configured) {
    if (fileKey) checkDistinctIds([configured, fileKey, ...others])
    return {keyring: new Keyring(configured, fileKey ? [fileKey, ...others] : others), notices}
  }

  return {keyring: new Keyring(fileKey, others), notices}
}

/** The error for sealing with no key on a server database. */
export function serverKeyMissing(): MissingKeyError {
  return new MissingKeyError(
    'No encryption key is configured for this Postgres server database, so synthex will not store a credential.',
    `${MAKE_A_KEY}, keep it in your secret manager, and set SYNTHEX_ENCRYPTION_KEY to it wherever synthex uses this database.`,
  )
}

/**
 * One id, one key: the same id for two different keys would seal new values under whichever
 * happened to win and make the others unreadable once a key is dropped.
 */
function checkDistinctIds(keys: readonly MasterKey[]): void {
  const seen = new Map<string, Buffer>()
  for (const key of keys) {
    const earlier = seen.get(key.id)
    if (earlier && !earlier.equals(key.key)) {
      throw new ConfigError('SYNTHEX_ENCRYPTION_KEYS', `the key id "${key.id}" is used for two different keys`, 'Give each key its own id; the active key (SYNTHEX_ENCRYPTION_KEY) and the older ones must not share one.')
    }

    seen.set(key.id, key.key)
  }
}

function parseKey(text: string, setting: string): MasterKey {
  const trimmed = text.trim()
  const colon = trimmed.indexOf(':')
  const id = colon === -1 ? undefined : trimmed.slice(0, colon)
  const encoded = colon === -1 ? trimmed : trimmed.slice(colon + 1)
  if (id !== undefined && !KEY_ID.test(id)) throw new ConfigError(setting, 'a key id may contain only letters, digits, "_" and "-" (up to 32)')
  const key = Buffer.from(encoded, 'base64')
  if (key.length !== KEY_BYTES || !/^[\w+/=-]+$/.test(encoded)) {
    throw new ConfigError(setting, `expected ${KEY_BYTES} random bytes, base64-encoded (optionally as id:base64)`, `${MAKE_A_KEY}.`)
  }

  return {id: id ?? derivedKeyId(key), key}
}

function parseKeyList(text: string | undefined): MasterKey[] {
  if (!text?.trim()) return []
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      if (!entry.includes(':')) throw new ConfigError('SYNTHEX_ENCRYPTION_KEYS', 'expected a comma-separated list of id:base64 keys')
      return parseKey(entry, 'SYNTHEX_ENCRYPTION_KEYS')
    })
}
