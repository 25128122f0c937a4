/**
 * Takes the URLs out of a text from Node or a library (an error, a warning) before it is
 * stored or shown: a URL may be a secret (a Slack webhook's path) or carry one (a password
 * in user:password@). Each URL keeps its scheme and host, so the text still says where.
 */
export function scrubUrls(text: string): string {
  return text.replaceAll(/\b([a-z][\w+.-]*):\/\/[^\s"'<>`]+/gi, (match, scheme: string) => {
    // With an "@" anywhere, what a parser takes for the host may be part of a password.
    if (match.includes('@')) return `${scheme}://...`
    try {
      const url = new URL(match)
      return url.host ? `${url.protocol}//${url.host}/...` : `${scheme}://...`
    } catch {
      return `${scheme}://...`
    }
  })
}
