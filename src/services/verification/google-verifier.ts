import type {Verifier} from './verifiers.js'

/** Placeholder until the Google verifier lands. */
export const verifyGoogle: Verifier = async () => {
  throw new Error('not yet')
}
