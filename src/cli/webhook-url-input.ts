import {Flags} from '@oclif/core'

import {SynthexError} from '../errors/synthex-error.js'
import {readEnvSecret, readSecret} from './secret-input.js'

/**
 * Where a webhook subscription's URL comes from. The URL may itself be a secret (a Zapier or
 * n8n hook URL lets anyone who has it post): besides `--url`, it is read from standard input
 * or a named environment variable like any secret (secret-input.ts), and never echoed.
 */
export const webhookUrlFlags = {
  url: Flags.string({description: 'The receiver\'s https:// URL. When the URL is itself a secret (Zapier, n8n), prefer --url-from-env or --url-stdin: argv is visible to other users of the machine.', exclusive: ['url-stdin', 'url-from-env'], helpValue: '<https-url>'}),
  'url-from-env': Flags.string({description: 'Read the URL from this environment variable.', exclusive: ['url', 'url-stdin'], helpValue: '<NAME>'}),
  'url-stdin': Flags.boolean({description: 'Read the URL from standard input.', exclusive: ['url', 'url-from-env']}),
}

export async function readWebhookUrl(flags: {url?: string; 'url-from-env'?: string; 'url-stdin'?: boolean}, options: {canPrompt: boolean; name: string}): Promise<string> {
  if (flags.url !== undefined) return flags.url
  if (flags['url-from-env'] !== undefined) return readEnvSecret('--url-from-env', flags['url-from-env']).trim()
  if (flags['url-stdin'] || options.canPrompt) return (await readSecret({'value-stdin': flags['url-stdin']}, {canPrompt: options.canPrompt, prompt: `URL of webhook ${options.name}: `})).trim()

  throw new SynthexError('No URL given.', {code: 'MISSING_URL', hint: 'Pass --url <https-url>, or --url-from-env NAME / --url-stdin when the URL is a secret.', kind: 'usage'})
}
