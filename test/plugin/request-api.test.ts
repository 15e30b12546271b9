import { test } from 'tap'
import Fastify from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import analytics, {
  EventType, MAX_PROPERTIES, Money,
  trackAnalyticsEvent, setAnalyticsRevenue, addAnalyticsProperty, setAnalyticsEventName
} from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { asyncContextFrameActive, DEFAULT_REQUEST_CONTEXT } from '../../lib/options.js'
import { COUNT_EVERYTHING, type TapTest } from '../helpers/collectors.js'

/** `stats().events.crawlers` before any crawler: every purpose at 0, no names. */
const NO_CRAWLERS = {
  requests: 0,
  spoofed: 0,
  byPurpose: { search: 0, 'ai-training': 0, 'ai-assistant': 0, 'ai-search': 0, seo: 0, monitoring: 0, preview: 0, feed: 0, archive: 0, scanner: 0, library: 0, unknown: 0 },
  byName: {},
  spoofedByName: {}
}

async function build (t: TapTest) {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  // The module helpers need the request context (off by default where it is costly: Node 20, 22).
  await app.register(analytics, { ...COUNT_EVERYTHING, requestContext: true, collectors: [collector] })
  return { app, collector }
}

test('revenue and properties land on the automatic event', async (t) => {
  const { app, collector } = await build(t)
  app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
    request.analytics.setRevenue(Money.fromMinor(2999, 'GBP'))
    request.analytics.addProperty('plan', 'annual')
    request.analytics.addProperty('seats', 3)
    request.analytics.addProperty('trial', false)
    return 'ok'
  })
  await app.inject({ method: 'POST', url: '/checkout' })
  t.same(collector.events.length, 1)
  t.match(collector.events[0], {
    type: 'action',
    actionName: 'checkout',
    revenue: { amount: '29.99', currency: 'GBP' },
    properties: { plan: 'annual', seats: 3, trial: false }
  })
})

test('64 properties at most; overwriting at the cap works; drops are counted', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', async (request) => {
    for (let i = 0; i < MAX_PROPERTIES + 6; i++) request.analytics.addProperty(`k${i}`, `v${i}`)
    request.analytics.addProperty('k0', 'overwritten')
    request.analytics.addProperty('object', { no: 1 } as never)
    return 'ok'
  })
  await app.inject('/')
  const properties = collector.events[0].properties
  t.equal(Object.keys(properties).length, MAX_PROPERTIES)
  t.equal(properties.k0, 'overwritten')
  t.equal(properties.k63, 'v63')
  t.notOk('k64' in properties)
  t.equal(app.analytics.stats().events.propertiesDropped, 7)
})

test('track keeps the first 64 properties, numbers and booleans with their type', async (t) => {
  const { app, collector } = await build(t)
  const properties: Record<string, unknown> = {}
  for (let i = 0; i < 70; i++) properties[`p${i}`] = i % 2 === 0 ? i : true
  properties.bad = () => 1
  app.analytics.track({ type: EventType.Custom, eventName: 'bulk', properties: properties as Record<string, number> })
  const kept = collector.events[0].properties
  t.equal(Object.keys(kept).length, 64)
  t.equal(kept.p0, 0)
  t.equal(kept.p1, true)
  t.notOk('p64' in kept)
  t.equal(app.analytics.stats().events.propertiesDropped, 7)
})

test('__proto__ and constructor keys are data, never object internals', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', async (request) => {
    request.analytics.addProperty('__proto__', 'polluted')
    request.analytics.addProperty('constructor', 'c')
    return 'ok'
  })
  await app.inject('/')
  app.analytics.track({ type: EventType.Custom, eventName: 'json', properties: JSON.parse('{"__proto__":"x","toString":"y"}') })
  const first = collector.events[0].properties
  t.equal(Object.getOwnPropertyDescriptor(first, '__proto__')?.value, 'polluted')
  t.equal(Object.getOwnPropertyDescriptor(first, 'constructor')?.value, 'c')
  const second = collector.events[1].properties
  t.equal(Object.getOwnPropertyDescriptor(second, '__proto__')?.value, 'x')
  t.equal(Object.getOwnPropertyDescriptor(second, 'toString')?.value, 'y')
  t.equal(({} as Record<string, unknown>).polluted, undefined)
})

test('setEventName promotes the automatic event: exactly one event, custom, with its name', async (t) => {
  const { app, collector } = await build(t)
  app.get('/search', async (request) => {
    request.analytics.setEventName('search.submitted')
    request.analytics.addProperty('q', 'shoes')
    return 'ok'
  })
  await app.inject('/search?q=shoes')
  t.equal(collector.events.length, 1)
  t.match(collector.events[0], { type: 'custom', eventName: 'search.submitted', path: '/search', properties: { q: 'shoes' }, statusCode: 200 })
})

test('an explicit track beside a promoted event gives two events', async (t) => {
  const { app, collector } = await build(t)
  app.post('/checkout', async (request) => {
    request.analytics.setEventName('checkout.completed')
    request.analytics.track({ type: EventType.Custom, eventName: 'coupon.applied' })
    return 'ok'
  })
  await app.inject({ method: 'POST', url: '/checkout' })
  t.same(collector.events.map((e) => e.eventName).sort(), ['checkout.completed', 'coupon.applied'])
})

// Application code far from the handler: no request passed in.
async function repository (): Promise<void> {
  await sleep(1)
  await Promise.resolve()
  setAnalyticsRevenue(Money.fromDecimal('5.00', 'EUR'))
  addAnalyticsProperty('source', 'repository')
  await new Promise<void>((resolve) => setImmediate(resolve))
  trackAnalyticsEvent({ type: EventType.Custom, eventName: 'order.stored' })
  setAnalyticsEventName('order.placed')
}
async function service (): Promise<void> {
  await sleep(1)
  await repository()
}

test('module helpers work from a deep async chain inside a request', async (t) => {
  const { app, collector } = await build(t)
  app.post('/orders', async () => {
    await service()
    return 'ok'
  })
  await app.inject({ method: 'POST', url: '/orders', headers: { 'user-agent': 'UA' } })
  t.equal(collector.events.length, 2)
  const stored = collector.events.find((e) => e.eventName === 'order.stored')
  const placed = collector.events.find((e) => e.eventName === 'order.placed')
  t.match(stored, { type: 'custom', path: '/orders', userAgent: 'UA' })
  t.match(placed, { type: 'custom', revenue: { amount: '5.00', currency: 'EUR' }, properties: { source: 'repository' } })
})

test('concurrent requests never see each other through the helpers', async (t) => {
  const { app, collector } = await build(t)
  app.get('/:n', async (request) => {
    const n = (request.params as { n: string }).n
    await sleep(Number(n) % 3)
    addAnalyticsProperty('n', n)
    return 'ok'
  })
  await Promise.all(Array.from({ length: 20 }, (_, n) => app.inject(`/${n}`)))
  t.equal(collector.events.length, 20)
  for (const event of collector.events) t.equal(event.properties.n, event.path.slice(1))
})

test('helpers outside a request do nothing, and each call is counted as unattached', async (t) => {
  const { app, collector } = await build(t)
  await app.ready()
  trackAnalyticsEvent({ type: EventType.Custom, eventName: 'outside' })
  setAnalyticsRevenue(Money.fromMinor(1, 'USD'))
  addAnalyticsProperty('a', 'b')
  setAnalyticsEventName('x')
  t.equal(collector.events.length, 0)
  t.same(app.analytics.stats().events, {
    emitted: 0,
    invalid: 0,
    propertiesDropped: 0,
    truncated: 0,
    skipped: { notPage: 0, bot: 0, prefetch: 0, ignored: 0, noRoute: 0, consent: 0, beforeSend: 0, spam: 0 },
    consentDenied: 0,
    beforeSendDropped: 0,
    beforeSendFailed: 0,
    unattached: 4,
    crawlers: NO_CRAWLERS
  })
})

test('app.analytics.track works outside requests, with no request enrichment', async (t) => {
  const { app, collector } = await build(t)
  await app.ready()
  const before = Date.now()
  app.analytics.track({ type: EventType.Custom, eventName: 'job.finished', properties: { job: 'nightly' } })
  t.equal(collector.events.length, 1)
  t.match(collector.events[0], { type: 'custom', eventName: 'job.finished', url: '', clientIP: '', userAgent: '', properties: { job: 'nightly' } })
  t.ok(Date.parse(collector.events[0].timestamp) >= before)
})

test('bad input at request time is dropped, counted and never thrown into the handler', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', async (request) => {
    request.analytics.track(null as never)
    request.analytics.track({ type: 'bogus' } as never)
    request.analytics.track({ type: EventType.Custom } as never)
    request.analytics.track({ type: EventType.Custom, eventName: 'x', url: 42 } as never)
    request.analytics.track({ type: EventType.Custom, eventName: 'x', timestamp: new Date('nope') })
    request.analytics.track({ type: EventType.Custom, eventName: 'x', revenue: { amount: 1 } } as never)
    request.analytics.track({ type: EventType.Custom, eventName: 'x', durationMs: -1 })
    // What the types refuse, refused at run time too (a JavaScript caller gets the same rule).
    request.analytics.track({ type: EventType.PageView, eventName: 'signup' } as never)
    request.analytics.track({ type: EventType.Action, eventName: 'signup' } as never)
    request.analytics.track({ type: EventType.PageView, actionName: 'signup' } as never)
    request.analytics.setRevenue(2999 as never)
    request.analytics.setEventName('' as never)
    request.analytics.setUserId({} as never)
    return 'ok'
  })
  const response = await app.inject('/')
  t.equal(response.statusCode, 200)
  t.equal(collector.events.length, 1, 'only the automatic event')
  t.equal(collector.events[0].type, 'pageview')
  t.equal(app.analytics.stats().events.invalid, 13)
})

test('with no collectors the plugin is inert and the API stays callable', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [] })
  app.get('/', async (request) => {
    request.analytics.setRevenue(Money.fromMinor(1, 'GBP'))
    request.analytics.addProperty('a', 'b')
    request.analytics.track({ type: EventType.Custom, eventName: 'x' })
    trackAnalyticsEvent({ type: EventType.Custom, eventName: 'y' })
    return 'ok'
  })
  const response = await app.inject('/')
  t.equal(response.statusCode, 200)
  app.analytics.track({ type: EventType.Custom, eventName: 'z' })
  await app.analytics.flush()
  t.same(app.analytics.stats(), { events: { emitted: 0, invalid: 0, propertiesDropped: 0, truncated: 0, skipped: { notPage: 0, bot: 0, prefetch: 0, ignored: 0, noRoute: 0, consent: 0, beforeSend: 0, spam: 0 }, consentDenied: 0, beforeSendDropped: 0, beforeSendFailed: 0, unattached: 0, crawlers: NO_CRAWLERS }, collectors: {}, visits: { store: 'off', visitors: 0, evictions: 0, fallbacks: 0 } })
})

test('requestContext: false registers no request context: request.analytics works, the helpers are counted as unattached', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector], requestContext: false })
  app.get('/', async (request) => {
    request.analytics.addProperty('direct', 'yes')
    addAnalyticsProperty('helper', 'no')
    trackAnalyticsEvent({ type: EventType.Custom, eventName: 'lost' })
    return 'ok'
  })
  await app.inject('/')
  t.notOk(app.hasPlugin('@fastify/request-context'))
  t.equal(collector.events.length, 1)
  t.same(collector.events[0].properties, { direct: 'yes' })
  t.equal(app.analytics.stats().events.unattached, 2)
})

test('requestContext: false still uses a request context the app registered itself', async (t) => {
  const { fastifyRequestContext } = await import('@fastify/request-context')
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyRequestContext)
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector], requestContext: false })
  app.get('/', async () => {
    addAnalyticsProperty('helper', 'yes')
    return 'ok'
  })
  await app.inject('/')
  t.same(collector.events[0].properties, { helper: 'yes' })
})

test('requestContext defaults to on only where AsyncLocalStorage is cheap (AsyncContextFrame), and the helpers follow it', async (t) => {
  t.equal(asyncContextFrameActive('20.20.2', []), false, 'Node 20: off')
  t.equal(asyncContextFrameActive('22.12.0', []), false, 'Node 22: off')
  t.equal(asyncContextFrameActive('22.12.0', ['--experimental-async-context-frame']), true, 'Node 22 with AsyncContextFrame: on')
  t.equal(asyncContextFrameActive('24.0.0', []), true, 'Node 24: on')
  t.equal(asyncContextFrameActive('24.11.1', ['--no-async-context-frame']), false, 'Node 24 without AsyncContextFrame: off')
  t.equal(DEFAULT_REQUEST_CONTEXT, asyncContextFrameActive(), 'the default is this process\'s answer')
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
  app.get('/', async () => {
    trackAnalyticsEvent({ type: EventType.Custom, eventName: 'from.helper' })
    return 'ok'
  })
  await app.inject('/')
  const tracked = collector.events.filter((event) => event.eventName === 'from.helper').length
  t.equal(tracked, DEFAULT_REQUEST_CONTEXT ? 1 : 0, `the helper ${DEFAULT_REQUEST_CONTEXT ? 'found' : 'did not find'} the request by default on Node ${process.versions.node}`)
  t.equal(app.analytics.stats().events.unattached, DEFAULT_REQUEST_CONTEXT ? 0 : 1, 'a call that found no request is counted')
})
