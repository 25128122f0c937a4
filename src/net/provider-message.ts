import {scrubUrls} from './scrub.js'

/** At most this much of a provider's message is kept (a verification's, a webhook receiver's answer). */
export const MAX_MESSAGE_CHARACTERS = 500

const REDACTED = '[redacted]'

/**
 * Shapes of secrets, whoever they belong to (a provider echoing another token than the one
 * it was sent): a PEM block, a JWT, Google's access (ya29.) and refresh (1//) tokens,
 * Shopify's tokens and secrets (shpat_, shpca_, shppa_, shpss_), and whatever follows
 * "Bearer".
 */
const SECRET_SHAPES: ReadonlyArray<readonly [RegExp, string]> = [
  [/-----BEGIN [A-Z ]*-----[\s\S]*?(?:-----END [A-Z ]*-----|$)/g, REDACTED],
  [/\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g, REDACTED],
  [/\bya29\.[\w.-]+/g, REDACTED],
  [/\b1\/\/[\w.-]{8,}/g, REDACTED],
  [/\b1%2F%2F[\w-]{8,}/gi, REDACTED],
  [/\bshp(?:at|ca|pa|ss)_[\w-]+/gi, REDACTED],
  [/\b(Bearer\s+)[\w.~+/=-]+/gi, `$1${REDACTED}`],
]

/** The shortest piece of a secret that is still taken out where a text was cut mid-secret. */
const MIN_PIECE = 8

/**
 * A provider's answer to a failed call as a verification keeps it: verbatim (JSON put on one
 * line, as Google pretty-prints its errors), with every secret of the exchange taken out
 * however it was encoded, anything shaped like a token or a key, URLs reduced to their host
 * (src/net/scrub.ts), and at most 500 characters. Secrets go before the cut: a cut first
 * could leave half a secret that no longer matches. Null when nothing is left to say.
 */
export function providerMessage(body: string, secrets: readonly string[]): null | string {
  let text: string
  try {
    text = JSON.stringify(JSON.parse(body))
  } catch {
    text = body.replaceAll(/\s+/g, ' ')
  }

  text = bounded(scrubUrls(scrubSecrets(text, secrets)).trim())
  return text === '' ? null : text
}

/** `text` without any of `secrets` (of 8 characters or more), raw, JSON-escaped or URL-encoded, nor anything of a secret's shape. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text
  const forms = secrets
    .filter((secret) => secret.length >= MIN_PIECE)
    .flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), ...pemLines(secret)])
    .filter((form) => form.length >= MIN_PIECE)
    // Longest first, so that a secret is replaced whole before any piece of it.
    .sort((a, b) => b.length - a.length)
  for (const form of new Set(forms)) scrubbed = scrubbed.replaceAll(form, REDACTED)
  for (const [shape, replacement] of SECRET_SHAPES) scrubbed = scrubbed.replaceAll(shape, replacement)
  // The provider's body was read up to a limit (src/net/outbound-request.ts): it may end
  // in the first part of a secret.
  for (const form of forms) {
    if (!form.includes(scrubbed.slice(-MIN_PIECE))) continue
    for (let length = form.length - 1; length >= MIN_PIECE; length--) {
      if (scrubbed.endsWith(form.slice(0, length))) {
        scrubbed = `${scrubbed.slice(0, -length)}${REDACTED}`
        break
      }
    }
  }

  return scrubbed
}

/** A PEM's base64 lines, each a secret on its own should a text quote one of them. */
function pemLines(secret: string): string[] {
  if (!secret.includes('-----BEGIN')) return []
  return secret
    .split(/\r?\n|\\n/)
    .map((line) => line.trim())
    .filter((line) => !line.startsWith('-----') && line.length >= 16)
}

function bounded(text: string): string {
  const characters = [...text]
  return characters.length > MAX_MESSAGE_CHARACTERS ? `${characters.slice(0, MAX_MESSAGE_CHARACTERS - 3).join('')}...` : text
}
