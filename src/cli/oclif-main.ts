import {execute, settings} from '@oclif/core'

/** Runs the command line through oclif (src/run.ts loads this module when it needs oclif). */
export async function runOclif(bin: string): Promise<void> {
  // The package ships compiled JavaScript only: never let oclif go looking for TypeScript
  // sources because NODE_ENV is "development" or "test" in the caller's environment.
  settings.enableAutoTranspile = false
  await execute({dir: bin})
}
