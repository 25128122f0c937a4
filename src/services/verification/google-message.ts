import {scrubUrls} from '../../net/scrub.js'

/**
 * Google's answer to a failed call, as a verification keeps it: verbatim (the OAuth
 * `{"error","error_description"}` of the token endpoint, or the APIs'
 * `{"error":{"code","message","status"}}`), on one line, at most 500 characters, and
 * scrubbed. A provider may echo what it was sent (a proxy's error page quoting the request,
 * say), so every secret of the exchange is taken out, however it was encoded, and so is
 * anything shaped like a Google token or a key, before the text is cut: a cut first could
 * leave half a secret that no longer matches.
 */

export const MAX_MESSAGE_CHARACTERS = 500

const REDACTED = '[redacted]'

/** Shapes of Google secrets, whoever they belong to: a PEM block, a JWT, an access token, a refresh token. */
const SECRET_SHAPES = [
  /-----BEGIN [A-Z ]*-----[\s\S]*?(?:-----END [A-Z ]*-----|$)/g,
  /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g,
  /\bya29\.[\w.-]+/g,
  /\b1\/\/[\w-]{8,}/g,
  /\b1%2F%2F[\w-]{8,}/gi,
]

/** The shortest piece of a secret that is still taken out where a text was cut mid-secret. */
const MIN_PIECE = 8

export function googleMessage(body: string, secrets: readonly string[]): null | string {
  let text: string
  try {
    // Google pretty-prints its errors: the same JSON on one line.
    text = JSON.stringify(JSON.parse(body))
  } catch {
    text = body.replaceAll(/\s+/g, ' ')
  }

  text = bounded(scrubUrls(scrubSecrets(text, secrets)).trim())
  return text === '' ? null : text
}

/** `text` without any of `secrets`, raw, JSON-escaped or URL-encoded, nor anything of a secret's shape. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text
  const forms = secrets
    .filter((secret) => secret.length >= MIN_PIECE)
    .flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), ...pemLines(secret)])
    .filter((form) => form.length >= MIN_PIECE)
    // Longest first, so that a secret is replaced whole before any piece of it.
    .sort((a, b) => b.length - a.length)
  for (const form of new Set(forms)) scrubbed = scrubbed.replaceAll(form, REDACTED)
  for (const shape of SECRET_SHAPES) scrubbed = scrubbed.replaceAll(shape, REDACTED)
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
