import { test } from 'tap'
import Fastify from 'fastify'
import analytics, { EventType, type AnalyticsEventJSON } from '../../lib/index.js'
import { ga4Collector } from '../../lib/collectors/ga4.js'
import { plausibleCollector } from '../../lib/collectors/plausible.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { memoryCollector } from '../../lib/testing.js'
import { assertBalanced } from '../helpers/collectors.js'
import { ok, startSink } from '../helpers/sink.js'
import { validateGa4Request } from '../servers/ga4-rules.js'
import { plausibleRules } from '../servers/plausible-rules.js'
import { webhookRules } from '../servers/webhook-rules.js'

// Where the visit goes: every built-in collector, inline and in the worker thread.

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const CAMPAIGN_URL = '/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring&session=secret'
// The worker compiles the TypeScript sources on its own under tap: slow on a loaded machine.
const START_TIMEOUT_MS = 60_000

interface GaBody { client_id: string, events: Array<{ name: string, params: Record<string, string | number> }> }

test('the webhook carries visitorId, visit and country, in the worker thread as inline', async (t) => {
  for (const delivery of ['inline', 'worker'] as const) {
    const hook = await startSink({ validate: webhookRules({ path: '/hook' }), policy: ok(200) })
    t.teardown(() => hook.close())
    const app = Fastify({ pluginTimeout: START_TIMEOUT_MS })
    t.teardown(() => app.close())
    await app.register(analytics, {
      delivery,
      startTimeoutMs: START_TIMEOUT_MS,
      pageViews: 'all',
      collectors: [webhookCollector({ url: `${hook.origin}/hook`, flushIntervalMs: 10 })]
    })
    app.get('/*', async () => 'ok')
    await app.ready()
    await app.inject({ url: CAMPAIGN_URL, headers: { 'user-agent': FIREFOX, host: 'shop.example' }, remoteAddress: '203.0.113.5' })
    await app.inject({ url: '/next', headers: { 'user-agent': FIREFOX, host: 'shop.example', referer: 'https://shop.example/landing' }, remoteAddress: '203.0.113.5' })
    await app.close()
    assertBalanced(t, app.analytics.stats().collectors)
    const events = hook.requests.flatMap((request) => (JSON.parse(request.body.toString('utf8')) as { events: AnalyticsEventJSON[] }).events)
    t.equal(events.length, 2, `${delivery}: both events delivered`)
    t.match(events[0], { visitorId: /^[0-9a-f]{32}$/, country: '' }, delivery)
    t.match(events[0].visit, {
      id: /^[0-9a-f-]{36}$/,
      startedAt: /^\d{4}-\d\d-\d\dT/,
      landingPath: '/landing',
      channel: 'Email',
      source: 'newsletter',
      medium: 'email',
      campaign: 'spring',
      term: '',
      content: '',
      clickId: ''
    }, `${delivery}: the visit in its JSON form`)
    t.same(events[1].visit, events[0].visit, `${delivery}: the second event carries the same visit`)
    t.equal(events[1].visitorId, events[0].visitorId)
    t.same(hook.violations, [])
  }
})

test('GA4: session_id is the visit\'s start, a campaign_details event opens it; events without a visit use the session store', async (t) => {
  const sink = await startSink({ validate: validateGa4Request, policy: ok(204) })
  t.teardown(() => sink.close())
  const memory = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, {
    pageViews: 'all',
    collectors: [memory, ga4Collector({ measurementId: 'G-VISITS2', apiSecret: 'visitsSecret456', endpoint: sink.origin, flushIntervalMs: 5 })]
  })
  app.get('/*', async () => 'ok')
  await app.ready()
  await app.inject({ url: CAMPAIGN_URL, headers: { 'user-agent': FIREFOX, host: 'shop.example' }, remoteAddress: '203.0.113.6' })
  await app.inject({ url: '/next', headers: { 'user-agent': FIREFOX, host: 'shop.example' }, remoteAddress: '203.0.113.6' })
  app.analytics.track({ type: EventType.Custom, eventName: 'nightly_job' })
  await app.close()
  const sent = sink.requests.flatMap((request) => (JSON.parse(request.body.toString('utf8')) as GaBody).events)
  t.same(sent.map((event) => event.name), ['campaign_details', 'page_view', 'page_view', 'nightly_job'])
  const visitStart = Math.floor(Date.parse(memory.events[0].visit?.startedAt ?? '') / 1000)
  t.same(sent.slice(0, 3).map((event) => event.params.session_id), [visitStart, visitStart, visitStart], 'the visit is the session')
  t.match(sent[0].params, { source: 'newsletter', medium: 'email', campaign: 'spring' }, 'campaign_details carries the visit\'s campaign')
  t.ok(Number(sent[3].params.session_id) > 0, 'an event without a visit gets its session from the session store')
  t.equal(memory.events[2].visit, null)
  t.same(sink.violations, [])
  assertBalanced(t, app.analytics.stats().collectors)
})

test('Plausible computes its own visitors: it gets the visitor\'s referrer and the campaign parameters', async (t) => {
  const sink = await startSink({ validate: plausibleRules({ domain: 'shop.example' }), policy: ok(202, 'ok') })
  t.teardown(() => sink.close())
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { pageViews: 'all', collectors: [plausibleCollector({ domain: 'shop.example', baseUrl: sink.origin })] })
  app.get('/*', async () => 'ok')
  await app.ready()
  await app.inject({ url: CAMPAIGN_URL, headers: { 'user-agent': FIREFOX, host: 'shop.example', referer: 'https://www.google.com/' }, remoteAddress: '203.0.113.7' })
  await app.close()
  const body = JSON.parse(sink.requests[0].body.toString('utf8')) as { url: string, referrer?: string }
  const url = new URL(body.url)
  t.equal(url.searchParams.get('utm_source'), 'newsletter')
  t.equal(url.searchParams.get('utm_medium'), 'email')
  t.equal(url.searchParams.get('utm_campaign'), 'spring')
  t.equal(url.searchParams.get('session'), null, 'other parameters stay behind (privacy allow-list)')
  t.equal(body.referrer, 'https://www.google.com/')
  t.equal(sink.requests[0].headers['x-forwarded-for'], '203.0.113.7', 'Plausible hashes the visitor from IP and user agent itself')
  t.same(sink.violations, [])
})

test('a request whose referrer is referrer spam gives no automatic event, counted in skipped.spam', async (t) => {
  const memory = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { pageViews: 'all', collectors: [memory] })
  app.get('/*', async (request) => {
    // Explicit events are the app's choice: kept.
    if (request.url === '/tracked') request.analytics.track({ type: EventType.Custom, eventName: 'explicit' })
    return 'ok'
  })
  await app.ready()
  await app.inject({ url: '/', headers: { 'user-agent': FIREFOX, referer: 'http://semalt.com/' } })
  await app.inject({ url: '/', headers: { 'user-agent': FIREFOX, referer: 'https://www.semalt.com/page' } })
  await app.inject({ url: '/', headers: { 'user-agent': FIREFOX, referer: 'https://example.org/' } })
  await app.inject({ url: '/tracked', headers: { 'user-agent': FIREFOX, referer: 'http://semalt.com/' } })
  t.same(memory.events.map((event) => event.eventName || event.referrer), ['https://example.org/', 'explicit'])
  t.equal(app.analytics.stats().events.skipped.spam, 3)
})
