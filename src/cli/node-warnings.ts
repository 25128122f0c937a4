import {scrubUrls} from '../net/scrub.js'

/**
 * Node prints its process warnings on stderr (cron logs), and some quote a URL whole: DEP0170
 * ("The URL smtp://user:password@host is invalid...") from a library's legacy url.parse, for
 * one. This replaces Node's printer with one that prints the same warnings with every URL
 * reduced to its scheme and host. When warnings are off (--no-warnings, NODE_NO_WARNINGS=1)
 * Node installs no printer, and none is added.
 */
export function printWarningsScrubbed(write: (text: string) => void = (text) => process.stderr.write(text)): void {
  const printers = process.listeners('warning')
  if (printers.length === 0) return
  for (const printer of printers) process.removeListener('warning', printer)
  process.on('warning', (warning: Error & {code?: string; detail?: string}) => {
    const code = typeof warning.code === 'string' ? `[${warning.code}] ` : ''
    const detail = typeof warning.detail === 'string' ? `\n${scrubUrls(warning.detail)}` : ''
    write(`(node:${process.pid}) ${code}${warning.name}: ${scrubUrls(warning.message)}${detail}\n`)
  })
}
