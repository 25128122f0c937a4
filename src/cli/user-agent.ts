import {readFileSync} from 'node:fs'
import {arch, platform} from 'node:os'

/**
 * What `synthex --version` prints, without loading oclif: the same line as oclif's
 * `config.userAgent` (node_modules/@oclif/core/lib/config/config.js), `name/version
 * platform-arch node-vX.Y.Z`, where the platform is "wsl" under WSL and the arch of a 32-bit
 * x86 Node is "x86". test/e2e/cli-contract.test.ts compares the two.
 */
export async function userAgent(packageJson: URL): Promise<string> {
  const pjson = JSON.parse(readFileSync(packageJson, 'utf8')) as {name: string; version?: string}
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  // oclif asks wsl-utils, whose isWsl is is-wsl's; it can only say yes on Linux.
  const os = platform() === 'linux' && (await import('is-wsl')).default ? 'wsl' : platform()
  return `${pjson.name}/${pjson.version || '0.0.0'} ${os}-${cpu} node-${process.version}`
}
