// An app with the HTTP collectors (GA4, Plausible, webhook, Mixpanel, PostHog, Segment, Umami), each pointed at its own validating sink: the oracle for
// the hostile-input properties. Whatever the visitor sends and whatever the app passes to the
// request API, no request may break the destination's published rules (test/servers/*-rules.ts),
// carry a header the collector did not mean to send, or hold a control character in a header value.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import analytics, { type CollectorStats } from '../../lib/index.js'
import { TEST_DELIVERY } from '../helpers/delivery.js'
import { ga4Collector } from '../../lib/collectors/ga4.js'
import { plausibleCollector } from '../../lib/collectors/plausible.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { mixpanelCollector } from '../../lib/collectors/mixpanel.js'
import { posthogCollector } from '../../lib/collectors/posthog.js'
import { segmentCollector } from '../../lib/collectors/segment.js'
import { umamiCollector } from '../../lib/collectors/umami.js'
import { assertBalanced, logCapture, type TapTest, COUNT_EVERYTHING } from '../helpers/collectors.js'
import { startSink, type ReceivedRequest, type Sink } from '../helpers/sink.js'
import { validateGa4Request } from '../servers/ga4-rules.js'
import { plausibleRules } from '../servers/plausible-rules.js'
import { webhookRules } from '../servers/webhook-rules.js'
import { mixpanelAnswer, mixpanelRules } from '../servers/mixpanel-rules.js'
import { posthogAnswer, posthogRules } from '../servers/posthog-rules.js'
import { segmentAnswer, segmentRules } from '../servers/segment-rules.js'
import { umamiAnswer, umamiRules } from '../servers/umami-rules.js'

export const DOMAIN = 'shop.example'
export const WEBHOOK_PATH = '/hooks/analytics'
export const WEBHOOK_SECRET = `whsec_${Buffer.from('hostile input signing key 32 by!').toString('base64')}`
export const GA4_SECRET = 'hostileInputApiSecret'
const MIXPANEL = { token: 'hostileInputToken', authorization: `Basic ${Buffer.from('hostileInputToken:').toString('base64')}` }
const POSTHOG = { apiKey: 'phc_hostileInput' }
const SEGMENT = { writeKey: 'hostileInputWriteKey' }
const UMAMI = { websiteId: '0b7a4c1e-3d2f-4a5b-8c6d-7e8f9a0b1c2d' }

/** The header names each collector sends (undici adds host, connection and content-length). */
const TRANSPORT_HEADERS = ['host', 'connection', 'content-length', 'content-type']
export const ALLOWED_HEADERS: Record<string, ReadonlySet<string>> = {
  ga4: new Set(TRANSPORT_HEADERS),
  plausible: new Set([...TRANSPORT_HEADERS, 'user-agent', 'x-forwarded-for']),
  webhook: new Set([...TRANSPORT_HEADERS, 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-tenant']),
  mixpanel: new Set([...TRANSPORT_HEADERS, 'user-agent', 'authorization', 'content-encoding']),
  posthog: new Set([...TRANSPORT_HEADERS, 'user-agent', 'content-encoding']),
  segment: new Set([...TRANSPORT_HEADERS, 'user-agent', 'authorization']),
  umami: new Set([...TRANSPORT_HEADERS, 'user-agent', 'x-forwarded-for'])
}

/** No header the collector did not mean to send, no control character in any header value. */
function headerRules (allowed: ReadonlySet<string>): (request: ReceivedRequest) => string[] {
  return (request) => {
    const problems: string[] = []
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      const name = request.rawHeaders[i].toLowerCase()
      if (!allowed.has(name)) problems.push(`unexpected header ${JSON.stringify(request.rawHeaders[i])} (injected?)`)
      if (/[\x00-\x08\x0a-\x1f\x7f]/.test(request.rawHeaders[i + 1])) problems.push(`header ${name} has a control character`)
    }
    return problems
  }
}

function both (...validators: Array<(request: ReceivedRequest) => string[]>): (request: ReceivedRequest) => string[] {
  return (request) => validators.flatMap((validate) => validate(request))
}

export interface Destinations {
  app: FastifyInstance
  sinks: Record<'ga4' | 'plausible' | 'webhook' | 'mixpanel' | 'posthog' | 'segment' | 'umami', Sink>
  log: ReturnType<typeof logCapture>
  /** Flushes and closes, then asserts the oracle: no violation, the accounting balanced. */
  finish: () => Promise<Record<string, CollectorStats>>
}

/**
 * Builds the app; `routes` declares the routes the properties drive. Queues are large and
 * batches leave at once, so every event that can be sent reaches its sink.
 */
export async function destinations (t: TapTest, server: FastifyServerOptions, routes: (app: FastifyInstance) => void): Promise<Destinations> {
  const sinks = {
    ga4: await startSink({ validate: both(validateGa4Request, headerRules(ALLOWED_HEADERS.ga4)) }),
    plausible: await startSink({ validate: both(plausibleRules({ domain: DOMAIN }), headerRules(ALLOWED_HEADERS.plausible)) }),
    webhook: await startSink({
      validate: both(webhookRules({ path: WEBHOOK_PATH, secret: WEBHOOK_SECRET }), headerRules(ALLOWED_HEADERS.webhook)),
      maxBodyBytes: 4 * 1024 * 1024
    }),
    // Both answer as the vendor does: a request or event that breaks a rule is refused (and counted), not only flagged.
    mixpanel: await startSink({ validate: both(mixpanelRules(MIXPANEL), headerRules(ALLOWED_HEADERS.mixpanel)), policy: mixpanelAnswer(MIXPANEL), maxBodyBytes: 4 * 1024 * 1024 }),
    posthog: await startSink({ validate: both(posthogRules(POSTHOG), headerRules(ALLOWED_HEADERS.posthog)), policy: posthogAnswer(POSTHOG), maxBodyBytes: 4 * 1024 * 1024 }),
    segment: await startSink({ validate: both(segmentRules(SEGMENT), headerRules(ALLOWED_HEADERS.segment)), policy: (request) => segmentAnswer(request, SEGMENT), maxBodyBytes: 4 * 1024 * 1024 }),
    umami: await startSink({ validate: both(umamiRules(UMAMI), headerRules(ALLOWED_HEADERS.umami)), policy: (request) => umamiAnswer(request, UMAMI) })
  }
  for (const sink of Object.values(sinks)) t.teardown(() => sink.close())
  const fast = { flushIntervalMs: 5, maxQueueSize: 100_000, timeoutMs: 5000 }
  const log = logCapture()
  // Under tap a worker compiles the TypeScript sources itself: slow on a loaded machine.
  const app = Fastify({ pluginTimeout: 60_000, ...server, logger: { level: 'warn', stream: log.stream } })
  t.teardown(() => app.close())
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    shutdownTimeoutMs: 10_000,
    startTimeoutMs: 60_000,
    delivery: TEST_DELIVERY,
    collectors: [
      ga4Collector({ measurementId: 'G-HOSTILE1', apiSecret: GA4_SECRET, endpoint: sinks.ga4.origin, ...fast }),
      plausibleCollector({ domain: DOMAIN, baseUrl: sinks.plausible.origin, ...fast, concurrency: 16 }),
      // ip: 'full' (the default truncates): the trustProxy tests compare the exact client IP at every destination.
      webhookCollector({ url: `${sinks.webhook.origin}${WEBHOOK_PATH}`, secret: WEBHOOK_SECRET, headers: { 'x-tenant': 'seven' }, ...fast, maxBatchSize: 50, ip: 'full' }),
      mixpanelCollector({ projectToken: MIXPANEL.token, endpoint: sinks.mixpanel.origin, ...fast, ip: 'full' }),
      posthogCollector({ apiKey: POSTHOG.apiKey, host: sinks.posthog.origin, ...fast, ip: 'full' }),
      segmentCollector({ writeKey: SEGMENT.writeKey, endpoint: sinks.segment.origin, ...fast, ip: 'full' }),
      umamiCollector({ websiteId: UMAMI.websiteId, baseUrl: sinks.umami.origin, ...fast, concurrency: 16, ip: 'full' })
    ]
  })
  routes(app)
  await app.ready()
  return {
    app,
    sinks,
    log,
    async finish () {
      await app.close()
      const stats = app.analytics.stats().collectors
      assertBalanced(t, stats)
      for (const [name, figures] of Object.entries(stats)) {
        t.equal(figures.dropped.failed + figures.dropped.rejected + figures.dropped.shutdown, 0, `${name}: nothing failed, rejected or cut by the deadline`, { figures })
        t.same(sinks[name as keyof typeof sinks].violations.slice(0, 10), [], `${name}: every request followed the destination's rules`)
      }
      return stats
    }
  }
}
