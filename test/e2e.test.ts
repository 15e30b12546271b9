import { test } from 'tap'
import Fastify from 'fastify'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import analytics, { EventType, Money, trackAnalyticsEvent } from '../lib/index.js'
import { assertBalanced, COUNT_EVERYTHING } from './helpers/collectors.js'
import { stdoutCollector } from '../lib/collectors/stdout.js'
import { ga4Collector } from '../lib/collectors/ga4.js'
import { plausibleCollector } from '../lib/collectors/plausible.js'
import { webhookCollector } from '../lib/collectors/webhook.js'
import { startSink } from './helpers/sink.js'
import { validateGa4Request } from './servers/ga4-rules.js'
import { plausibleRules } from './servers/plausible-rules.js'
import { webhookRules } from './servers/webhook-rules.js'

const SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')

test('end to end: real requests through the plugin reach every collector, each within its destination\'s rules', async (t) => {
  const ga4 = await startSink({ validate: validateGa4Request, policy: () => ({ kind: 'respond', status: 204 }) })
  const plausible = await startSink({ validate: plausibleRules({ domain: 'shop.example' }), policy: () => ({ kind: 'respond', status: 202, body: 'ok' }) })
  const webhook = await startSink({ validate: webhookRules({ path: '/hooks', secret: SECRET }) })
  t.teardown(async () => { await ga4.close(); await plausible.close(); await webhook.close() })
  const file = join(t.testdir(), 'events.ndjson')

  const app = Fastify({ trustProxy: '127.0.0.1' })
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    requestContext: true,
    collectors: [
      stdoutCollector({ destination: file }),
      ga4Collector({ measurementId: 'G-E2ETEST1', apiSecret: 'e2e-secret', endpoint: ga4.origin }),
      plausibleCollector({ domain: 'shop.example', baseUrl: plausible.origin }),
      webhookCollector({ url: `${webhook.origin}/hooks`, secret: SECRET })
    ]
  })
  app.get('/products/:slug', async () => 'product')
  app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
    request.analytics.setRevenue(Money.fromMinor(2999, 'GBP'))
    request.analytics.addProperty('plan', 'annual')
    trackAnalyticsEvent({ type: EventType.Custom, eventName: 'coupon.applied', properties: { code: 'WINTER' } })
    return 'ok'
  })
  const headers = {
    'user-agent': 'Mozilla/5.0 (e2e)',
    'accept-language': 'en-GB',
    'x-forwarded-for': '203.0.113.50',
    host: 'shop.example',
    cookie: '_ga=GA1.1.111.1790000000'
  }
  for (let i = 0; i < 10; i++) await app.inject({ url: `/products/p${i}`, headers })
  await app.inject({ method: 'POST', url: '/checkout', headers })
  await app.inject({ url: '/missing', headers })
  await app.close()

  const stats = app.analytics.stats()
  t.equal(stats.events.emitted, 13)
  for (const [name, figures] of Object.entries(stats.collectors)) {
    t.equal(figures.accepted, 13, `${name} was handed every event`)
    t.equal(figures.delivered, 13, `${name} delivered every event`)
  }
  assertBalanced(t, stats.collectors)
  t.same(ga4.violations, [], 'GA4 rules')
  t.same(plausible.violations, [], 'Plausible rules')
  t.same(webhook.violations, [], 'webhook rules and signatures')

  const ga4Events = ga4.requests.flatMap((r) => (JSON.parse(r.body.toString()) as { events: Array<{ name: string }> }).events)
  t.equal(ga4Events.length, 13)
  t.ok(ga4.requests.every((r) => JSON.parse(r.body.toString()).client_id === '111.1790000000'), 'the _ga cookie gives the client id')
  // The checkout carries revenue: GA4 gets it as the purchase its Monetization reports count.
  t.same(ga4Events.map((e) => e.name).sort(), [...Array(11).fill('page_view'), 'purchase', 'coupon_applied'].sort())

  t.equal(plausible.requests.length, 13)
  t.ok(plausible.requests.every((r) => r.headers['x-forwarded-for'] === '203.0.113.50'), 'the trusted client IP is forwarded')
  const checkout = plausible.requests.map((r) => JSON.parse(r.body.toString())).find((b) => b.name === 'checkout')
  t.match(checkout, { domain: 'shop.example', interactive: false, revenue: { currency: 'GBP', amount: '29.99' }, props: { plan: 'annual' } })

  const webhookEvents = webhook.requests.flatMap((r) => JSON.parse(r.body.toString()).events)
  t.equal(webhookEvents.length, 13)
  t.equal(readFileSync(file, 'utf8').trim().split('\n').length, 13)
})
