import {execute, settings} from '@oclif/core'

import {printWarningsScrubbed} from './cli/node-warnings.js'

/**
 * The CLI's entry point, called by bin/run.js. oclif is bundled into dist/ with the rest
 * of synthex (see scripts/build.mjs), so this is where the process meets it.
 */
export async function run(bin: string): Promise<void> {
  // The package ships compiled JavaScript only: never let oclif go looking for TypeScript
  // sources because NODE_ENV is "development" or "test" in the caller's environment.
  settings.enableAutoTranspile = false
  // No warning from Node or a library reaches stderr with a URL, or a password in it, whole.
  printWarningsScrubbed()
  await execute({dir: bin})
}
