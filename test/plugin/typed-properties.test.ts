import { test } from 'tap'
import Fastify from 'fastify'
import analytics, { Money } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { addAnalyticsProperty } from '../../lib/helpers.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { plausibleCollector } from '../../lib/collectors/plausible.js'
import { stdoutCollector } from '../../lib/collectors/stdout.js'
import { ga4Collector } from '../../lib/collectors/ga4.js'
import { decodeCapture, encodeCapture } from '../../lib/worker/capture-codec.js'
import { MAX_PROPERTIES, type AnalyticsEventJSON } from '../../lib/event.js'
import { startSink } from '../helpers/sink.js'
import { COUNT_EVERYTHING } from '../helpers/collectors.js'
import { webhookRules } from '../servers/webhook-rules.js'
import { plausibleRules } from '../servers/plausible-rules.js'
import { validateGa4Request } from '../servers/ga4-rules.js'

// Property values keep the type they were given (issue 25, item 7): every path into an event, every
// collector in the type its destination takes, and both delivery modes.

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'
const GIVEN = { qty: 3, price: 19.5, gift: true, optIn: false, plan: 'annual', zero: 0, text: '7' }

test('addProperty, track({ properties }) and the helper keep strings, finite numbers and booleans as given', async (t) => {
  const memory = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, requestContext: true, collectors: [memory] })
  app.post('/order', async (request) => {
    for (const [key, value] of Object.entries(GIVEN)) request.analytics.addProperty(key, value)
    addAnalyticsProperty('viaHelper', 2.5)
    request.analytics.track({ type: 'custom', eventName: 'order.placed', properties: GIVEN })
    return 'ok'
  })
  await app.inject({ method: 'POST', url: '/order', payload: {}, headers: { 'user-agent': BROWSER } })
  app.analytics.track({ type: 'custom', eventName: 'job.done', properties: { rows: 1200, ok: true } })
  const events = await memory.waitFor(3)
  const byName = Object.fromEntries(events.map((event) => [event.eventName || event.actionName, event.properties]))
  t.same(byName['order.placed'], GIVEN, 'track() inside a request')
  t.same(byName['POST /order'], { ...GIVEN, viaHelper: 2.5 }, 'addProperty and addAnalyticsProperty on the automatic event')
  t.same(byName['job.done'], { rows: 1200, ok: true }, 'app.analytics.track()')
  t.equal(typeof byName['order.placed'].qty, 'number', 'memoryCollector snapshots keep the number')
  t.equal(byName['order.placed'].gift, true)
  t.equal(byName['order.placed'].text, '7', 'a numeric string stays a string')
  t.equal(app.analytics.stats().events.propertiesDropped, 0)
})

test('NaN, ±Infinity, bigint, null and objects are dropped and counted; -0 is stored as 0', async (t) => {
  const memory = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memory] })
  app.post('/order', async (request) => {
    request.analytics.addProperty('nan', Number.NaN)
    request.analytics.addProperty('inf', Number.POSITIVE_INFINITY)
    request.analytics.addProperty('negZero', -0)
    request.analytics.addProperty('big', 10n as unknown as number)
    request.analytics.addProperty('kept', 1)
    return 'ok'
  })
  await app.inject({ method: 'POST', url: '/order', payload: {}, headers: { 'user-agent': BROWSER } })
  t.equal(app.analytics.stats().events.propertiesDropped, 3, 'NaN, Infinity and the bigint from addProperty')
  app.analytics.track({
    type: 'custom',
    eventName: 'e',
    properties: { a: Number.NEGATIVE_INFINITY, b: null, c: { nested: 1 }, d: [1], e: 5 } as unknown as Record<string, number>
  })
  const events = await memory.waitFor(2)
  t.equal(app.analytics.stats().events.propertiesDropped, 7, 'and four more from track()')
  t.same(events[0].properties, { negZero: 0, kept: 1 })
  t.ok(Object.is(events[0].properties.negZero, 0), '-0 became +0')
  t.same(events[1].properties, { e: 5 })
})

test('numbers and booleans count toward the 64-property cap like strings', async (t) => {
  const memory = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [memory] })
  await app.ready()
  const properties: Record<string, number | boolean> = {}
  for (let i = 0; i < MAX_PROPERTIES + 6; i++) properties[`p${i}`] = i % 2 === 0 ? i : true
  app.analytics.track({ type: 'custom', eventName: 'many', properties })
  const [event] = await memory.waitFor(1)
  t.equal(Object.keys(event.properties).length, MAX_PROPERTIES)
  t.equal(app.analytics.stats().events.propertiesDropped, 6)
})

/** One request with typed properties and a tracked event, through an app with these collectors. */
async function sendTyped (collectors: Parameters<typeof analytics>[1]['collectors'], delivery: 'inline' | 'worker' = 'inline'): Promise<void> {
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, delivery, collectors })
  app.post('/order', async (request) => {
    for (const [key, value] of Object.entries(GIVEN)) request.analytics.addProperty(key, value)
    request.analytics.track({ type: 'custom', eventName: 'order.placed', properties: GIVEN })
    return 'ok'
  })
  await app.inject({ method: 'POST', url: '/order', payload: {}, headers: { 'user-agent': BROWSER } })
  await app.close()
}

for (const delivery of ['inline', 'worker'] as const) {
  test(`webhook bodies carry each property with its JSON type, valid against the shipped schema (${delivery})`, async (t) => {
    const sink = await startSink({ validate: webhookRules() })
    t.teardown(() => sink.close())
    await sendTyped([webhookCollector({ url: sink.origin, flushIntervalMs: 5 })], delivery)
    t.same(sink.violations, [])
    const events = sink.requests.flatMap((request) => (JSON.parse(request.body.toString('utf8')) as { events: AnalyticsEventJSON[] }).events)
    t.equal(events.length, 2)
    // The automatic event crosses as a capture in worker mode, the tracked one as an event: both keep the types.
    for (const event of events) t.same(event.properties, GIVEN, `${event.type} ${event.eventName || event.actionName}`)
  })
}

test('the worker capture encoding carries numbers and booleans as numbers and booleans', async (t) => {
  const properties = Object.assign(Object.create(null) as Record<string, string | number | boolean>, GIVEN)
  const capture = {
    type: 'action',
    startMs: 1,
    durationMs: 2,
    statusCode: 200,
    pattern: '/x',
    actionName: '',
    eventName: '',
    userId: '',
    consent: '',
    revenue: undefined,
    properties,
    facts: {
      method: 'POST',
      url: '/x',
      protocol: 'http',
      host: 'h',
      ip: '',
      userAgent: '',
      referrer: '',
      acceptLanguage: '',
      purpose: '',
      gpc: false,
      mobileHint: '',
      platformHint: '',
      countryHeader: '',
      userId: '',
      locale: '',
      headers: {}
    }
  } as unknown as Parameters<typeof encodeCapture>[0]
  // Through structured clone, as the worker channel copies it.
  const decoded = decodeCapture(structuredClone(encodeCapture(capture)))
  t.same({ ...decoded.properties }, GIVEN)
  t.equal(typeof decoded.properties?.qty, 'number')
  t.equal(typeof decoded.properties?.gift, 'boolean')
})

test('stdout lines carry each property with its JSON type', async (t) => {
  const lines: string[] = []
  const { Writable } = await import('node:stream')
  const destination = new Writable({ write (chunk, _encoding, done) { lines.push(...String(chunk).split('\n').filter((line) => line !== '')); done() } })
  await sendTyped([stdoutCollector({ destination })])
  const events = lines.map((line) => JSON.parse(line) as Record<string, unknown> & { event?: AnalyticsEventJSON, properties?: unknown })
  t.equal(events.length, 2)
  for (const line of events) t.same(line.properties ?? line.event?.properties, GIVEN)
})

test('Plausible props: every value as text, as its Events API documents', async (t) => {
  const sink = await startSink({ validate: plausibleRules({ domain: 'shop.example' }), policy: () => ({ kind: 'respond', status: 202, body: 'ok' }) })
  t.teardown(() => sink.close())
  await sendTyped([plausibleCollector({ domain: 'shop.example', baseUrl: sink.origin })])
  t.same(sink.violations, [], 'the test server refuses props that are not strings')
  t.equal(sink.requests.length, 2)
  for (const request of sink.requests) {
    const body = JSON.parse(request.body.toString('utf8')) as { props: Record<string, unknown> }
    t.same(body.props, { qty: '3', price: '19.5', gift: 'true', optIn: 'false', plan: 'annual', zero: '0', text: '7' })
  }
})

test('GA4: numbers go as numbers (a custom metric can sum them), booleans as text as gtag.js sends them', async (t) => {
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  await sendTyped([ga4Collector({ measurementId: 'G-TEST1234', apiSecret: 'secret', endpoint: sink.origin, flushIntervalMs: 5 })])
  t.same(sink.violations, [])
  const events = sink.requests.flatMap((request) => (JSON.parse(request.body.toString('utf8')) as { events: Array<{ name: string, params: Record<string, unknown> }> }).events)
  t.equal(events.length, 2)
  for (const event of events) {
    t.match(event.params, { qty: 3, price: 19.5, gift: 'true', optIn: 'false', plan: 'annual', zero: 0, text: '7' }, event.name)
    t.equal(typeof event.params.qty, 'number')
  }
})

test('GA4 revenue with typed properties: value is a number from the Money, never from a property', async (t) => {
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const app = Fastify()
  await app.register(analytics, { collectors: [ga4Collector({ measurementId: 'G-TEST1234', apiSecret: 'secret', endpoint: sink.origin, flushIntervalMs: 5 })] })
  await app.ready()
  app.analytics.track({ type: 'custom', eventName: 'subscribe', revenue: Money.fromMinor(1500, 'KWD'), properties: { value: 99, seats: 4 } })
  await app.close()
  t.same(sink.violations, [])
  const [event] = (JSON.parse(sink.requests[0].body.toString('utf8')) as { events: Array<{ name: string, params: Record<string, unknown> }> }).events
  t.match(event.params, { value: 1.5, currency: 'KWD', x_value: 99, seats: 4 })
})

test('email redaction rewrites text properties and leaves numbers and booleans as they are', async (t) => {
  const memory = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [memory] })
  await app.ready()
  app.analytics.track({ type: 'custom', eventName: 'signup', properties: { contact: 'alice@example.com', seats: 3, trial: true } })
  const [event] = await memory.waitFor(1)
  t.same(event.properties, { contact: '[email]', seats: 3, trial: true })
  t.equal(app.analytics.stats().events.invalid, 0)
})
