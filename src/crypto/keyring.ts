import {createHash, hkdfSync} from 'node:crypto'

/** A 32-byte master key and the id its ciphertexts are stamped with. */
export interface MasterKey {
  readonly id: string
  readonly key: Buffer
}

/**
 * The keys synthex can decrypt with, and the one it encrypts with.
 *
 * Each key is known by its explicit id (`id:base64` in SYNTHEX_ENCRYPTION_KEYS) and always
 * also by an id derived from its bytes, so a key keeps opening its ciphertexts when it moves
 * from SYNTHEX_ENCRYPTION_KEY to the list of older keys.
 */
export class Keyring {
  /** The key new values are sealed with; undefined when only older keys are configured. */
  readonly active: MasterKey | undefined
  readonly #byId = new Map<string, Buffer>()
  readonly #derived = new Map<string, Buffer>()

  constructor(active: MasterKey | undefined, others: readonly MasterKey[] = []) {
    this.active = active
    // The first key under an id wins, the active one first: an older key listed under the
    // active key's id must never take its place (loadKeyring refuses such a configuration).
    for (const key of active ? [active, ...others] : others) {
      for (const id of [key.id, derivedKeyId(key.key)]) if (!this.#byId.has(id)) this.#byId.set(id, key.key)
    }
  }

  /** The key for an id, derived for one purpose (HKDF-SHA256), or undefined if unknown. */
  derive(id: string, purpose: string): Buffer | undefined {
    const cacheKey = `${id}\u0000${purpose}`
    let key = this.#derived.get(cacheKey)
    if (!key) {
      const master = this.#byId.get(id)
      if (!master) return undefined
      key = deriveKey(master, purpose)
      this.#derived.set(cacheKey, key)
    }

    return key
  }

  has(id: string): boolean {
    return this.#byId.has(id)
  }
}

/**
 * A short public name for a key: the first 12 hex characters of SHA-256 over a domain tag
 * and the key. It identifies the key without saying anything usable about it.
 */
export function derivedKeyId(key: Buffer): string {
  return `k${createHash('sha256').update('synthex key id\u0000').update(key).digest('hex').slice(0, 11)}`
}

/** One key per purpose, so that a key used for fingerprints never encrypts, and vice versa. */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `synthex:${purpose}`, 32))
}
