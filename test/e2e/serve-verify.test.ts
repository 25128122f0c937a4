import {randomBytes} from 'node:crypto'

import {afterAll, beforeAll, expect, it} from 'vitest'

import {ShopifyAdminFake} from '../fakes/shopify-admin-fake.js'
import {describeEachCliBackend, ownTarget} from '../helpers/cli-backends.js'
import {type ServeProcess, startServe} from '../helpers/serve-process.js'
import {shopifyFleet} from '../helpers/shopify-fleet.js'
import {waitFor} from '../helpers/wait.js'

const KEY = `k:${randomBytes(32).toString('base64')}`
const SHOPS = 24

/**
 * `serve --verify-every` in two processes on one database, as replicas would run it: the
 * fleet is verified once per period between them (each shop asked twice, shop.json and
 * access_scopes.json, not four times), and a process stopped midway leaves a run that the
 * next one resumes rather than starts again.
 */
describeEachCliBackend('serve --verify-every', (target) => {
  let fake: ShopifyAdminFake

  beforeAll(async () => {
    fake = await new ShopifyAdminFake().listen()
  })

  afterAll(async () => {
    await fake.close()
  })

  const verifications = (serve: ServeProcess) => serve.accessLog().filter((line) => line.event === 'credentials.verify')

  it('verifies the fleet once between two processes, and a run stopped midway is resumed by the next', async () => {
    const own = await ownTarget(target())
    const env = {...own.env, SYNTHEX_ENCRYPTION_KEY: KEY, SYNTHEX_LOCK_TIMEOUT: '120s', SYNTHEX_SHOPIFY_API_URL: fake.apiUrl}
    const shops = Object.fromEntries(Array.from({length: SHOPS}, (_, index) => [`shop-${index}`, {}]))
    await shopifyFleet(own, KEY, fake, shops)

    // Stopped midway: answers are slow, and the process is stopped once some have come.
    fake.reset()
    fake.answerDelay(600)
    const first = await startServe(env, ['--verify-every', '1h'])
    try {
      // Eight in flight at a time, two requests each: twenty requests mean eight answered.
      await waitFor(() => (fake.requests.length >= 20 ? true : undefined), 60_000, 'the first answers')
    } finally {
      expect((await first.stop()).code).toBe(0)
    }

    const stopped = verifications(first)
    expect(stopped).toEqual([expect.objectContaining({interrupted: true, resumed: false, total: SHOPS})])
    const before = Number(stopped[0]?.verified)
    expect(before).toBeGreaterThan(0)
    expect(before).toBeLessThan(SHOPS)

    // Two processes now: one resumes the run, the other finds it held or already done.
    fake.reset()
    fake.answerDelay(20)
    const serves = await Promise.all([startServe(env, ['--verify-every', '1h']), startServe(env, ['--verify-every', '1h'])])
    try {
      await waitFor(() => (serves.every((serve) => verifications(serve).length > 0) ? true : undefined), 120_000, 'each serve to decide')
    } finally {
      const codes = await Promise.all(serves.map(async (serve) => (await serve.stop()).code))
      expect(codes).toEqual([0, 0])
    }

    const lines = serves.flatMap(verifications)
    const ran = lines.filter((line) => 'counts' in line)
    expect(ran).toEqual([expect.objectContaining({interrupted: false, resumed: true, total: SHOPS, verified: SHOPS - before})])
    expect(ran[0]?.counts).toMatchObject({valid: SHOPS})
    expect(lines.filter((line) => 'skipped' in line).map((line) => line.skipped)).toEqual([expect.stringMatching(/^(in_progress|not_due)$/)])
    // Only the credentials the first process had not stored were asked for, each once.
    const asked = new Map<string, number>()
    for (const {shop} of fake.requests) asked.set(shop ?? '', (asked.get(shop ?? '') ?? 0) + 1)
    expect(asked.size).toBe(SHOPS - before)
    expect([...asked.values()].every((count) => count === 2)).toBe(true)
  })
})
