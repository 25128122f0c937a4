/**
 * An SMTP URL, `smtp://user:password@host:587` (STARTTLS required), `smtps://...:465` (TLS
 * from the first byte) or `smtp://host:25?tls=none` (plain SMTP, said explicitly), read with
 * the WHATWG parser into what nodemailer is given as options. Nodemailer is never handed the
 * URL itself: it falls back to Node's legacy url.parse for a URL the WHATWG parser refuses,
 * and Node's DEP0170 warning then prints that URL, password and all, on stderr.
 */

export interface SmtpEndpoint {
  readonly host: string
  readonly password: string | undefined
  readonly port: number
  /** TLS from the first byte (smtps://). */
  readonly secure: boolean
  /** `required`: STARTTLS before anything else, or no mail; `none`: plain SMTP. */
  readonly tls: 'none' | 'required'
  readonly user: string | undefined
}

/** What to do with a special character of a password, for the messages below. */
const ENCODE_HINT = 'percent-encode special characters of the user name and password (# as %23, / as %2F, ? as %3F, @ as %40, : as %3A, % as %25)'

/**
 * The endpoint, or why the URL cannot be used, never quoting it: it holds the password.
 * `strict` (when a channel is added or read from the environment) refuses query parameters
 * other than `tls=none`; a URL stored before keeps working with the ones it had.
 */
export function parseSmtpUrl(value: string, options: {strict?: boolean} = {}): SmtpEndpoint | {readonly problem: string} {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return {problem: /^smtps?:\/\//i.test(value) ? `is not a valid SMTP URL; ${ENCODE_HINT}` : 'must be an smtp:// or smtps:// URL'}
  }

  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return {problem: 'must be an smtp:// or smtps:// URL'}
  // A raw "#", "/" or "?" in a password ends the host part early: what follows would be
  // taken for a fragment, a path or a query, and the "host" for part of the password.
  if (value.includes('#') || url.search.includes('@') || (url.pathname !== '' && url.pathname !== '/')) return {problem: `is not a valid SMTP URL; ${ENCODE_HINT}`}
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (host === '') return {problem: 'must name the SMTP server\'s host'}
  const secure = url.protocol === 'smtps:'
  const tls = url.searchParams.get('tls')
  if (tls !== null && (tls !== 'none' || secure)) return {problem: 'takes ?tls=none only with smtp:// (plain SMTP); smtps:// is TLS from the start'}
  if (options.strict) {
    const unknown = [...url.searchParams.keys()].filter((key) => key !== 'tls' && key !== 'requireTLS')
    if (unknown.length > 0 || url.searchParams.get('requireTLS') === 'false') {
      return {problem: `takes no query parameter but ?tls=none (to send in clear); ${ENCODE_HINT}`}
    }
  }

  let user: string | undefined
  let password: string | undefined
  try {
    user = url.username === '' ? undefined : decodeURIComponent(url.username)
    password = url.password === '' ? undefined : decodeURIComponent(url.password)
  } catch {
    return {problem: `has a malformed %-escape in its user name or password; ${ENCODE_HINT}`}
  }

  return {host, password, port: url.port === '' ? (secure ? 465 : 587) : Number(url.port), secure, tls: tls === 'none' ? 'none' : 'required', user}
}
