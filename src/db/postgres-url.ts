/**
 * A database URL as it may be shown to people: scheme, user, host, port and database,
 * never the password or query parameters (which may carry one, e.g. `password=`).
 */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url)
    const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : ''
    const port = parsed.port ? `:${parsed.port}` : ''
    return `${parsed.protocol}//${user}${parsed.hostname}${port}${parsed.pathname}`
  } catch {
    return 'postgres://(unparseable URL)'
  }
}

/** The `sslmode` a URL asks for; libpq's default is `prefer`, but pg's (and ours) is no TLS. */
export function sslMode(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('sslmode') ?? undefined
  } catch {
    return undefined
  }
}

/**
 * The URL another role connects with to the same server and database: the user replaced,
 * no password, and of the parameters only `sslmode` kept (the others are synthex's own).
 */
export function urlForRole(url: string, role: string): string | undefined {
  try {
    const parsed = new URL(url)
    const port = parsed.port ? `:${parsed.port}` : ''
    const mode = parsed.searchParams.get('sslmode')
    return `${parsed.protocol}//${encodeURIComponent(role)}@${parsed.hostname}${port}${parsed.pathname}${mode ? `?sslmode=${encodeURIComponent(mode)}` : ''}`
  } catch {
    return undefined
  }
}
