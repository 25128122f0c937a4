import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {example} from '../../cli/example.js'
import {integerFlag} from '../../cli/integer-flags.js'
import {ImportProgress} from '../../cli/progress.js'
import {describeVerificationProgress, outcomeCounts, VERIFICATION_FAILURE_COLUMNS} from '../../cli/verification-view.js'
import {networkSettings} from '../../config/settings.js'
import {currentEnvironment, providerEnvironment} from '../../config/environment.js'
import type {CredentialService} from '../../db/schema.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {CREDENTIAL_SERVICES} from '../../services/credentials/credentials.js'
import {runVerification, type VerificationProgress, type VerificationRunResult} from '../../services/verification/verification-run.js'
import {thousands} from '../../text/thousands.js'

const usage = (message: string): SynthexError => new SynthexError(message, {code: 'USAGE', hint: 'Run the command with --help to see its arguments, flags and examples.', kind: 'usage'})

export default class CredentialsVerify extends BaseCommand<typeof CredentialsVerify> {
  static override args = {'tenant-id': Args.string({description: 'The tenant whose credentials to verify (or --all).'})}
  static override description = `Calls each credential's provider with it, read-only, and records the answer: Shopify's Admin API (GET shop.json, then the token's access scopes against SHOPIFY_SCOPES, with X-Shopify-Access-Token), Google's token endpoint and Merchant API. The value goes to the provider and nowhere else; the provider's error text is kept verbatim but scrubbed.

Outcomes: valid; scopes_missing (a required scope not granted: SHOPIFY_SCOPES, SYNTHEX_GOOGLE_SCOPES; or 403); rejected (401 revoked or invalid, Google's invalid_grant, 402 shop frozen, 404 no such shop or account, 423 shop locked, a value that is no credential); throttled (still 429 on the third attempt, each after the Retry-After asked, up to a minute); timeout (no answer within --timeout); error (5xx, network, an answer that is not the provider's).

--all verifies every active credential of the fleet (every workspace, or only the one given with --workspace / SYNTHEX_WORKSPACE), --concurrency at a time and never more than Shopify's REST rate per shop (a bucket of 40 leaking 2 a second). Interrupted (Ctrl-C, SIGTERM, or killed), the next --all of the same scope resumes where it stopped; --restart starts afresh.

Exit codes: 0 when no credential is rejected or scopes_missing (throttled, timeout and error are reported, and exit 3 only with --fail-on any); 3 when one is; 1 when a run of the same credentials is in progress elsewhere; 130 when interrupted. SYNTHEX_SHOPIFY_API_URL ({shop} is replaced by the shop's domain) points the calls at a proxy or a stand-in.`

  static override examples = [
    example('acme-us', "Is acme-us's Shopify token still accepted, with the scopes the app needs?"),
    example('--all', 'The whole fleet, 8 at a time, with progress on stderr and a table of what is not valid.'),
    example('--all --service shopify --concurrency 32 --timeout 5s --json > verify.json', 'Shopify tokens only, faster, as one JSON document.'),
    example('--all --fail-on any', 'A cron gate: exit 3 also when a provider timed out or failed.'),
    example('--all --restart', 'Start over instead of resuming an interrupted run.'),
  ]

  static override flags = {
    all: Flags.boolean({description: 'Every active credential of the fleet (all workspaces unless --workspace is given).'}),
    concurrency: integerFlag({default: 8, description: 'Verifications in flight at once.', max: 256, min: 1}),
    'fail-on': Flags.string({
      default: 'rejected',
      description: 'Exit 3 when a credential is rejected or scopes_missing (rejected), or also throttled, timed out or in error (any).',
      options: ['rejected', 'any'],
    }),
    restart: Flags.boolean({dependsOn: ['all'], description: 'Start a new run even if the last --all run did not finish (instead of resuming it).'}),
    service: Flags.string({description: 'Only credentials for this API.', options: [...CREDENTIAL_SERVICES]}),
    timeout: Flags.string({default: '10s', description: 'How long each request to a provider may take.', helpValue: '<duration>'}),
  }

  static override summary = 'Check credentials with their provider (Shopify, Google) and record the answers.'

  #progress: ImportProgress<VerificationProgress> | undefined

  async run(): Promise<VerificationRunResult> {
    const {all, concurrency, 'fail-on': failOn, restart, service} = this.flags
    const tenantId = this.args['tenant-id']
    if (Boolean(all) === (tenantId !== undefined)) throw usage(all ? 'Give a tenant id or --all, not both.' : 'Give a tenant id, or --all for the whole fleet.')
    // Flags and the environment are checked before the database is opened.
    const timeoutMs = durationFlag('timeout', this.flags.timeout, {max: 300_000, min: 100})
    const endpoints = providerEnvironment()
    const network = networkSettings(currentEnvironment())
    const keyring = this.keyring({sealing: false})
    const db = await this.db()
    const workspace = !all || this.settings.workspaceChosen ? await this.workspace() : undefined

    const stop = new AbortController()
    // The first SIGINT or SIGTERM stops the run cleanly: what was answered is stored, and the next --all resumes.
    this.stopWith(() => stop.abort())
    const progress = new ImportProgress<VerificationProgress>({describe: describeVerificationProgress, live: this.settings.colorAllowed && Boolean(process.stderr.isTTY)})
    this.#progress = progress
    const result = await runVerification(db, {service: service as CredentialService | undefined, tenantId, workspace}, {
      audit: this.audit,
      concurrency,
      endpoints,
      keyring,
      network,
      onProgress: (counts) => progress.update(counts),
      restart,
      signal: stop.signal,
      timeoutMs,
    })
    progress.done()

    const n = thousands
    if (result.interrupted) {
      throw new SynthexError(`Interrupted: ${n(result.verified)} credential${result.verified === 1 ? '' : 's'} verified and stored by this run (${n(result.alreadyVerified + result.verified)} of ${n(result.total)} in all).`, {
        code: 'INTERRUPTED',
        details: {alreadyVerified: result.alreadyVerified, counts: result.counts, runId: result.runId, total: result.total, verified: result.verified},
        hint: all ? 'Run the same `credentials verify --all` again to resume: only the credentials not yet verified are called.' : 'Run the same command again.',
        kind: 'interrupted',
      })
    }

    const rejected = result.counts.rejected + result.counts.scopes_missing
    const transient = result.counts.throttled + result.counts.timeout + result.counts.error
    const failed = rejected > 0 || (failOn === 'any' && transient > 0)
    if (!this.jsonEnabled()) {
      const checked = result.alreadyVerified + result.verified
      const resumed = result.resumed ? ` (resumed: ${n(result.alreadyVerified)} verified before)` : ''
      if (checked === 0) this.output.info(all ? 'No active credential to verify.' : `Tenant ${tenantId} has no active credential${service ? ` for ${service}` : ''}.`)
      else if (rejected === 0 && transient === 0) this.output.success(`Verified ${n(checked)} credential${checked === 1 ? '' : 's'}${resumed}: all valid.`)
      else {
        this.output.info(`Verified ${n(checked)} credential${checked === 1 ? '' : 's'}${resumed}: ${outcomeCounts(result.counts)}.`)
        this.output.table(result.failures, VERIFICATION_FAILURE_COLUMNS)
        if (result.failuresTruncated) this.output.warn(`Only the first ${n(result.failures.length)} credentials that are not valid are listed.`)
      }

      if (failed) this.output.info(rejected > 0 ? `${n(rejected)} credential${rejected === 1 ? ' is' : 's are'} rejected or missing scopes: exit 3.` : `${n(transient)} could not be verified (--fail-on any): exit 3.`)
    }

    if (failed) process.exitCode = 3
    return result
  }

  protected override interruption(): {details: Record<string, unknown>; hint: string; message: string} {
    this.#progress?.stop()
    const verified = this.#progress?.counts?.read ?? 0
    return {
      details: {verified},
      hint: this.flags?.all ? 'Run the same `credentials verify --all` again to resume: only the credentials not yet verified are called.' : 'Run the same command again.',
      message: `${thousands(verified)} credential${verified === 1 ? '' : 's'} verified; the answers written before the interruption are kept.`,
    }
  }
}
