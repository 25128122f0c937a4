import {readFileSync} from 'node:fs'
import {arch, platform} from 'node:os'

import isWsl from 'is-wsl'

/** The fields of package.json that oclif's `config.userAgent` is made of. */
export interface PackageIdentity {
  readonly name: string
  readonly version?: string
}

/** package.json, read as oclif reads it for the user agent. */
export function readPackageIdentity(packageJson: URL): PackageIdentity {
  return JSON.parse(readFileSync(packageJson, 'utf8')) as PackageIdentity
}

/**
 * What `synthex --version` prints (and the root help's VERSION), without loading oclif: the
 * same line as oclif's `config.userAgent` (node_modules/@oclif/core/lib/config/config.js),
 * `name/version platform-arch node-vX.Y.Z`, where the platform is "wsl" under WSL and the
 * arch of a 32-bit x86 Node is "x86". test/e2e/startup.test.ts compares the two.
 */
export function userAgent(pjson: PackageIdentity): string {
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  // oclif asks wsl-utils, whose isWsl is is-wsl's (imported by oclif too, see scripts/build.mjs).
  const os = isWsl ? 'wsl' : platform()
  return `${pjson.name}/${pjson.version || '0.0.0'} ${os}-${cpu} node-${process.version}`
}
