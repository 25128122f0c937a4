import {createRoute, z} from '@hono/zod-openapi'

import {channelEnvironment, providerEnvironment} from '../../config/environment.js'
import {checkHealth} from '../../services/health/health.js'
import {fleetMetrics, renderMetrics} from '../../services/telemetry/metrics.js'
import type {ServeApp, ServeDependencies} from '../app.js'
import {requireScope} from '../auth.js'
import {BEARER_SECURITY, ERROR_RESPONSES} from '../tenant-schemas.js'

/** Each health check may take this long; the whole answer comes within about as much. */
const CHECK_TIMEOUT_MS = 5000
const CRON_MAX_AGE_MS = 30 * 60_000
const LATENCY_THRESHOLD_MS = 250

const CheckSchema = z.object({name: z.string(), reason: z.string().optional(), status: z.enum(['healthy', 'degraded', 'unhealthy'])})
const HealthSchema = z.object({checks: z.array(CheckSchema), overallStatus: z.enum(['healthy', 'degraded', 'unhealthy'])}).openapi('Health')

const health = createRoute({
  method: 'get',
  path: '/api/health',
  responses: {
    200: {content: {'application/json': {schema: HealthSchema}}, description: 'Healthy or degraded. Without a key, each check\'s name and status; with a health:read key, the reasons too.'},
    503: {content: {'application/json': {schema: HealthSchema}}, description: 'Unhealthy.'},
  },
  summary: 'The health report (reasons need health:read)',
  tags: ['operations'],
})

const metrics = createRoute({
  method: 'get',
  path: '/api/metrics',
  responses: {200: {content: {'text/plain; version=0.0.4': {schema: z.string()}}, description: 'The Prometheus text exposition of `synthex metrics`.'}, ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Prometheus metrics (scope metrics:read, or anyone with --public-metrics)',
  tags: ['operations'],
})

export function systemRoutes(app: ServeApp, deps: ServeDependencies): void {
  app.openapi(health, async (c) => {
    const principal = c.get('principal')
    const report = await checkHealth({
      channelEnvironment: channelEnvironment(),
      cronMaxAgeMs: CRON_MAX_AGE_MS,
      deep: false,
      keyring: () => deps.keyring({sealing: false}),
      latencyThresholdMs: LATENCY_THRESHOLD_MS,
      open: async () => deps.db(),
      providers: providerEnvironment(),
      // A monitor polling every minute must not fill the health history.
      record: false,
      timeoutMs: CHECK_TIMEOUT_MS,
    })
    const reasons = principal?.scopes.has('health:read') === true
    const checks = report.checks.map((check) => (reasons ? {name: check.name, reason: check.reason, status: check.status} : {name: check.name, status: check.status}))
    c.header('cache-control', 'no-store')
    return c.json({checks, overallStatus: report.status}, report.status === 'unhealthy' ? 503 : 200)
  })

  app.openapi(metrics, async (c) => {
    if (!deps.publicMetrics) requireScope(c.get('principal'), 'metrics:read')
    const text = renderMetrics(await fleetMetrics(deps.db()))
    return c.text(text, 200, {'content-type': 'text/plain; version=0.0.4; charset=utf-8'})
  })
}
