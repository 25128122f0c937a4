import type {Verifier} from './verifiers.js'

/** Placeholder until the Shopify verifier lands. */
export const verifyShopify: Verifier = async () => {
  throw new Error('not yet')
}
