/**
 * Where synthex's source lives (package.json "repository"). The npm package ships neither
 * examples/ nor docs/, so what points at them points here.
 */
export const REPOSITORY_URL = 'https://github.com/synthex-dev/synthex'

/** A file of the repository, such as `examples/crontab`, as a link that works from an installed package. */
export function repositoryFile(path: string): string {
  return `${REPOSITORY_URL}/blob/main/${path}`
}
