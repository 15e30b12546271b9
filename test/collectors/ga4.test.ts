import { test } from 'tap'
import { inspect } from 'node:util'
import v8 from 'node:v8'
import vm from 'node:vm'
import Fastify from 'fastify'
import { Agent, Dispatcher } from 'undici'
import { ga4Collector, GA4_DEFAULTS, type Ga4CollectorOptions } from '../../lib/collectors/ga4.js'
import { toGa4Name, eventName, paramName, RESERVED_EVENT_NAMES } from '../../lib/collectors/ga4/names.js'
import { readGaCookies, sessionCookieName } from '../../lib/collectors/ga4/cookies.js'
import { ClientIdHasher } from '../../lib/collectors/ga4/client-id.js'
import { SessionTracker } from '../../lib/collectors/ga4/session.js'
import { encodeGa4Batch, ga4Device, MAX_EVENT_AGE_MS, type Ga4Item } from '../../lib/collectors/ga4/payload.js'
import { EU_ORIGIN, GLOBAL_ORIGIN } from '../../lib/collectors/ga4/options.js'
import analytics from '../../lib/index.js'
import { createEvent, EventType, type AnalyticsEvent } from '../../lib/event.js'
import { Money } from '../../lib/money.js'
import { collectorHarness } from '../helpers/collector-harness.js'
import { logCapture, type TapTest, COUNT_EVERYTHING } from '../helpers/collectors.js'
import { startSink, type ReceivedRequest, type Sink, type SinkPolicy } from '../helpers/sink.js'
import { validateGa4Request } from '../servers/ga4-rules.js'

const SECRET = 'sEcReT-4pi-k3y_value'
const MEASUREMENT_ID = 'G-TEST1234'
const HOUR = 3_600_000
const MINUTE = 60_000

interface Ga4Body {
  client_id: string
  user_id?: string
  ip_override?: string
  device?: Record<string, string>
  events: Array<{ name: string, params: Record<string, string | number>, timestamp_micros: number }>
}

interface EventInit extends Partial<Omit<AnalyticsEvent, 'request'>> {
  cookie?: string
}

function makeEvent (type: EventType, init: EventInit = {}): AnalyticsEvent {
  const { cookie, ...fields } = init
  const event = createEvent(type, fields.timestamp ?? new Date())
  event.clientIP = '203.0.113.7'
  event.userAgent = 'Mozilla/5.0 (X11; Linux x86_64) Test/1.0'
  event.hostname = 'shop.example'
  event.url = 'https://shop.example/basket'
  event.path = '/basket'
  event.method = type === EventType.PageView ? 'GET' : 'POST'
  Object.assign(event, fields)
  if (cookie !== undefined) {
    // GA4 declares the Cookie header; the plugin captures it into event.requestHeaders.
    event.requestHeaders = { cookie }
  }
  return event
}

interface Setup {
  sink: Sink
  collector: ReturnType<typeof ga4Collector>
  logs: string[]
  /** Events handed to collect(). */
  collect: (event: AnalyticsEvent) => void
  /** Flushes, closes, then checks the accounting invariant and that every request followed the rules. */
  finish: () => Promise<void>
  bodies: () => Ga4Body[]
}

async function setup (t: TapTest, options: Partial<Ga4CollectorOptions> = {}, policy?: SinkPolicy): Promise<Setup> {
  const h = await collectorHarness(t, { validate: validateGa4Request, policy }, (sink) => ga4Collector({
    measurementId: MEASUREMENT_ID,
    apiSecret: SECRET,
    endpoint: sink.origin,
    flushIntervalMs: 5,
    retry: { baseDelayMs: 1, maxDelayMs: 20 },
    ...options
  }), 'every request followed the Measurement Protocol rules')
  return {
    sink: h.sink,
    collector: h.collector,
    logs: h.logs.raw,
    collect: h.collect,
    async finish () { await h.finish() },
    bodies () {
      return h.sink.requests.map((request) => JSON.parse(request.body.toString('utf8')) as Ga4Body)
    }
  }
}

function allEvents (bodies: Ga4Body[]): Ga4Body['events'] {
  return bodies.flatMap((body) => body.events)
}

// ---- the validator itself ----------------------------------------------------------------

function fakeRequest (body: unknown, url = `/mp/collect?measurement_id=${MEASUREMENT_ID}&api_secret=x`): ReceivedRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    rawHeaders: [],
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    receivedAt: Date.now()
  }
}

test('the GA4 rules validator accepts a valid request and catches each broken rule', async (t) => {
  const now = Date.now() * 1000
  const good = { client_id: '1.2', events: [{ name: 'page_view', params: { session_id: 1, engagement_time_msec: 1, page_location: 'x'.repeat(1000) }, timestamp_micros: now }] }
  t.same(validateGa4Request(fakeRequest(good)), [])
  const broken = (mutate: (body: typeof good & Record<string, unknown>) => void): string[] => {
    const body = structuredClone(good) as typeof good & Record<string, unknown>
    mutate(body)
    return validateGa4Request(fakeRequest(body))
  }
  t.ok(broken((b) => { (b as Record<string, unknown>).client_id = undefined }).length > 0, 'client_id')
  t.ok(broken((b) => { b.events[0].name = 'session_start' }).length > 0, 'reserved event')
  t.ok(broken((b) => { b.events[0].name = 'google_x' }).length > 0, 'reserved prefix')
  t.ok(broken((b) => { b.events[0].name = 'a'.repeat(41) }).length > 0, 'name length')
  t.ok(broken((b) => { (b.events[0].params as Record<string, unknown>)['1x'] = 'v' }).length > 0, 'param name')
  t.ok(broken((b) => { (b.events[0].params as Record<string, unknown>).p = 'v'.repeat(101) }).length > 0, 'value length')
  t.ok(broken((b) => { b.events[0].params.page_location = 'x'.repeat(1001) }).length > 0, 'page_location length')
  t.ok(broken((b) => { (b.events[0].params as Record<string, unknown>).session_id = undefined }).length > 0, 'session_id')
  t.ok(broken((b) => { b.events[0].params.engagement_time_msec = 0 }).length > 0, 'engagement_time_msec')
  t.ok(broken((b) => { b.events[0].timestamp_micros = now - 73 * HOUR * 1000 }).length > 0, 'too old')
  t.ok(broken((b) => { b.events[0].timestamp_micros = now + 60 * MINUTE * 1000 }).length > 0, 'future')
  t.ok(broken((b) => { (b.events[0].params as Record<string, unknown>).value = 5 }).length > 0, 'value without currency')
  t.ok(broken((b) => { b.user_id = 'u'.repeat(257) }).length > 0, 'user_id length')
  t.ok(broken((b) => { b.events = Array.from({ length: 26 }, () => good.events[0]) }).length > 0, '26 events')
  t.ok(broken((b) => {
    for (let i = 0; i < 24; i++) (b.events[0].params as Record<string, unknown>)[`p${i}`] = 'v'
  }).length > 0, '27 params')
  t.ok(validateGa4Request(fakeRequest(good, '/mp/collect?measurement_id=G-1')).length > 0, 'api_secret missing')
  t.ok(validateGa4Request(fakeRequest('not json')).length > 0, 'not JSON')
  t.ok(validateGa4Request(fakeRequest({ ...good, pad: 'x'.repeat(130_000) })).length > 0, 'body size')
})

// ---- pure parts ----------------------------------------------------------------------------

test('names are made valid deterministically', async (t) => {
  t.equal(toGa4Name('checkout_completed', RESERVED_EVENT_NAMES), 'checkout_completed')
  t.equal(eventName('checkout.completed', 'f'), 'checkout_completed')
  t.equal(eventName('POST /users/:id', 'f'), 'POST_users_id')
  t.equal(eventName('  --a--b--  ', 'f'), 'a_b')
  t.equal(eventName('error', 'f'), 'x_error', 'reserved event names are prefixed')
  t.equal(eventName('Session_Start', 'f'), 'x_Session_Start', 'reserved names are matched case-insensitively')
  t.equal(eventName('google_thing', 'f'), 'x_google_thing')
  t.equal(eventName('GA_thing', 'f'), 'x_GA_thing')
  t.equal(eventName('firebase_x', 'f'), 'x_firebase_x')
  t.equal(eventName('404 page', 'f'), 'x_404_page', 'names must start with a letter')
  t.equal(eventName('日本語', 'fallback'), 'fallback', 'nothing usable: the fallback')
  t.equal(eventName('', 'fallback'), 'fallback')
  t.equal(eventName('page_view', 'f'), 'page_view', 'page_view is not reserved over MP')
  t.equal(eventName('a'.repeat(40), 'f'), 'a'.repeat(40), '40 characters kept')
  t.equal(eventName('a'.repeat(41), 'f'), 'a'.repeat(40), '41 characters cut to 40')
  t.equal(eventName(`${'a'.repeat(39)}.b`, 'f'), 'a'.repeat(39), 'no trailing underscore after the cut')
  t.equal(eventName(`1${'a'.repeat(45)}`, 'f').length, 40)
  t.equal(paramName('value'), 'x_value', 'standard parameter names are reserved for properties')
  t.equal(paramName('session_id'), 'x_session_id')
  t.equal(paramName('__proto__'), 'proto')
  t.equal(paramName('constructor'), 'constructor')
  t.equal(paramName('...'), '')
  const long = 'é'.repeat(100_000) + 'abc'
  t.equal(eventName(long, 'fallback'), 'fallback', 'only a bounded prefix of a hostile name is scanned')
})

test('the _ga and _ga_<stream> cookies are read in both formats, hostile headers cost linear time', async (t) => {
  const stream = sessionCookieName(MEASUREMENT_ID)
  t.equal(stream, '_ga_TEST1234')
  t.same(readGaCookies('a=1; _ga=GA1.1.1234567890.1700000000; _ga_TEST1234=GS1.1.1700001234.3.1.1700001300.0.0.0', stream),
    { clientId: '1234567890.1700000000', sessionId: 1700001234 })
  t.same(readGaCookies('_ga_TEST1234=GS2.1.s1700005678$o12$g1$t1700005700$j60$l0$h0;_ga=GA1.2.99.1600000000', stream),
    { clientId: '99.1600000000', sessionId: 1700005678 })
  t.same(readGaCookies('_ga=GA1.1.1.2; _ga=GA1.1.3.4', stream).clientId, '1.2', 'the first occurrence wins')
  t.same(readGaCookies('_ga=garbage; _ga_TEST1234=GS9.1.x', stream), { clientId: undefined, sessionId: undefined })
  t.same(readGaCookies('_ga_OTHER=GS1.1.1700001234.1.1.1.0.0.0', stream).sessionId, undefined, 'another stream\'s cookie is ignored')
  t.same(readGaCookies('_ga_TEST12345=GS1.1.1700001234.1', stream).sessionId, undefined, 'a longer cookie name is not ours')
  t.same(readGaCookies(['x=1', '_ga=GA1.1.5.6'], stream).clientId, '5.6', 'an array header is joined')
  t.same(readGaCookies(undefined, stream), { clientId: undefined, sessionId: undefined })

  const hostile = [';'.repeat(1_000_000), '='.repeat(1_000_000), ' '.repeat(1_000_000), `_ga=GA1.1.${'1'.repeat(1_000_000)}.1`, '_ga='.repeat(250_000)]
  for (const header of hostile) {
    const start = process.hrtime.bigint()
    const cookies = readGaCookies(header, stream)
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    t.equal(cookies.clientId, undefined)
    // Not a speed target (those live in bench/): a bound 20× above normal that only super-linear
    // parsing (a backtracking regex on a 1 MB header) could cross, on any machine.
    t.ok(ms < 1000, `a ${header.length}-character hostile header parsed in ${ms.toFixed(2)} ms`)
  }
})

test('the derived client id is keyed, daily, GA-shaped and holds no IP', async (t) => {
  const hasher = new ClientIdHasher(SECRET)
  const day = Date.UTC(2026, 0, 15, 10)
  const a = hasher.id('203.0.113.7', 'UA', 'shop.example', day)
  t.match(a, /^\d{1,10}\.\d{10}$/)
  t.equal(hasher.id('203.0.113.7', 'UA', 'shop.example', day + 5 * HOUR), a, 'same visitor, same UTC day')
  t.equal(new ClientIdHasher(SECRET).id('203.0.113.7', 'UA', 'shop.example', day), a, 'another instance derives the same id')
  t.not(hasher.id('203.0.113.7', 'UA', 'shop.example', day + 24 * HOUR), a, 'rotates daily')
  t.equal(hasher.id('203.0.113.7', 'UA', 'shop.example', day), a, 'and the cache follows the day back')
  t.not(hasher.id('203.0.113.8', 'UA', 'shop.example', day), a, 'another IP')
  t.not(hasher.id('203.0.113.7', 'UA2', 'shop.example', day), a, 'another user agent')
  t.not(new ClientIdHasher('other-secret').id('203.0.113.7', 'UA', 'shop.example', day), a, 'keyed by the secret')
  const seconds = Number(a.split('.')[1])
  t.ok(seconds * 1000 >= Date.UTC(2026, 0, 15) && seconds * 1000 < Date.UTC(2026, 0, 16), 'the seconds fall within the day')
  t.notOk(a.includes('203.0.113.7'))
})

test('the session tracker keeps a session for 30 minutes of activity and bounds its memory', async (t) => {
  const sessions = new SessionTracker(3)
  const t0 = Date.UTC(2026, 0, 15, 10)
  const first = sessions.sessionId('a', t0)
  t.equal(first, t0 / 1000, 'a session id is its start in seconds')
  t.equal(sessions.sessionId('a', t0 + 29 * MINUTE), first)
  t.equal(sessions.sessionId('a', t0 + 58 * MINUTE), first, '29 minutes after the last event: same session')
  t.equal(sessions.sessionId('a', t0 + 50 * MINUTE), first, 'an older event still belongs to it')
  const second = sessions.sessionId('a', t0 + 89 * MINUTE)
  t.equal(second, (t0 + 89 * MINUTE) / 1000, '31 minutes of silence: a new session')
  sessions.sessionId('b', t0)
  sessions.sessionId('c', t0)
  sessions.sessionId('a', t0 + 90 * MINUTE)
  sessions.sessionId('d', t0)
  t.equal(sessions.size, 3, 'capped')
  t.equal(sessions.sessionId('a', t0 + 91 * MINUTE), second, 'the most recently seen survives eviction')
})

test('encoding groups by client, user and IP, and cuts at 25 events', async (t) => {
  const now = Date.now()
  const item = (clientId: string, userId = '', ip = ''): Ga4Item => ({
    clientId, userId, ip, device: '', adsDenied: false, atMs: now, sessionPending: false, event: { name: 'e', params: { session_id: 1, engagement_time_msec: 1 }, timestamp_micros: now * 1000 }
  })
  const items = [item('a'), item('b'), item('a', 'u'), item('a', '', '192.0.2.1'), ...Array.from({ length: 30 }, () => item('a'))]
  items.push({ ...item('a'), atMs: now - MAX_EVENT_AGE_MS - 1 })
  const { requests, invalid } = encodeGa4Batch(items, '/mp/collect?x', now)
  t.equal(invalid, 1, 'an event past the age limit at encoding is invalid')
  t.same(requests.map((r) => r.events), [25, 6, 1, 1, 1], 'a: 31 events in 25 + 6; b; a+user; a+ip')
  const bodies = requests.map((r) => JSON.parse(String(r.body)) as Ga4Body)
  t.same(bodies.map((b) => [b.client_id, b.user_id, b.ip_override]), [
    ['a', undefined, undefined], ['a', undefined, undefined], ['b', undefined, undefined], ['a', 'u', undefined], ['a', undefined, '192.0.2.1']
  ])
})

// ---- options ---------------------------------------------------------------------------

test('options are checked at construction, naming the option and never quoting the secret', async (t) => {
  const base = { measurementId: MEASUREMENT_ID, apiSecret: SECRET }
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ apiSecret: SECRET }, /measurementId/],
    [{ ...base, measurementId: 'UA-1234-1' }, /measurementId/],
    [{ measurementId: MEASUREMENT_ID }, /apiSecret/],
    [{ ...base, apiSecret: '' }, /apiSecret/],
    [{ ...base, apiSecret: `${SECRET} ` }, /apiSecret/],
    [{ ...base, region: 'us' }, /region/],
    [{ ...base, endpoint: 'ftp://x' }, /endpoint/],
    [{ ...base, endpoint: 'https://proxy.example/path' }, /endpoint/],
    [{ ...base, endpoint: 'not a url' }, /endpoint/],
    [{ ...base, debug: 'yes' }, /debug/],
    [{ ...base, ipOverride: 1 }, /ipOverride/],
    [{ ...base, clientId: 'abc' }, /clientId/],
    [{ ...base, name: '' }, /name/],
    [{ ...base, apiSecrets: SECRET }, /unknown option "apiSecrets"/],
    [{ ...base, maxBatchSize: 0 }, /maxBatchSize/],
    [{ ...base, concurrency: 1.5 }, /concurrency/]
  ]
  for (const [options, pattern] of cases) {
    try {
      ga4Collector(options as unknown as Ga4CollectorOptions)
      t.fail(`accepted ${inspect(options)}`)
    } catch (error) {
      const err = error as Error & { code?: string }
      t.equal(err.code, 'FST_ANALYTICS_INVALID_OPTION')
      t.match(err.message, pattern)
      t.notOk(err.message.includes(SECRET), 'the secret is not in the message')
    }
  }
  t.equal(ga4Collector(base).name, 'ga4')
  t.equal(ga4Collector({ ...base, name: 'ga4-eu' }).name, 'ga4-eu')
  t.same(GA4_DEFAULTS, { maxBatchSize: 1000, flushIntervalMs: 2000, concurrency: 8 })
})

// ---- against the sink --------------------------------------------------------------------

test('each event type is mapped: page_view, actions, custom events', async (t) => {
  const s = await setup(t)
  const now = new Date()
  s.collect(makeEvent(EventType.PageView, { timestamp: now, referrer: 'https://search.example/?q=x', locale: 'en-GB' }))
  // One visitor, one language: the device object (language included) is request-level, like client_id.
  s.collect(makeEvent(EventType.Action, { actionName: 'checkout', locale: 'en-GB' }))
  s.collect(makeEvent(EventType.Action, { actionName: 'POST /users/:id', locale: 'en-GB' }))
  s.collect(makeEvent(EventType.Action, { actionName: '', locale: 'en-GB' }))
  s.collect(makeEvent(EventType.Custom, { eventName: 'coupon.applied', locale: 'en-GB' }))
  s.collect(makeEvent(EventType.Custom, { eventName: 'сделка', locale: 'en-GB' }))
  await s.finish()
  const events = allEvents(s.bodies())
  t.same(events.map((e) => e.name), ['page_view', 'checkout', 'POST_users_id', 'server_action', 'coupon_applied', 'custom_event'])
  const pageView = events[0]
  t.equal(pageView.params.page_location, 'https://shop.example/basket')
  t.equal(pageView.params.page_referrer, 'https://search.example/?q=x')
  t.equal(pageView.params.language, 'en-GB')
  t.equal(pageView.timestamp_micros, now.getTime() * 1000, 'timestamp_micros per event, from the event')
  for (const event of events) {
    t.ok(Number(event.params.session_id) >= 1, 'session_id on every event')
    t.equal(event.params.engagement_time_msec, 1, 'engagement_time_msec on every event')
  }
  t.equal(s.sink.requests.length, 1, 'one visitor: one request')
  const request = s.sink.requests[0]
  t.equal(request.method, 'POST')
  t.match(request.url, /^\/mp\/collect\?measurement_id=G-TEST1234&api_secret=sEcReT-4pi-k3y_value$/)
  t.equal(request.headers['content-type'], 'application/json')
  t.same(s.collector.stats().delivered, 6)
})

test('revenue becomes value in major units and currency: GBP, JPY, KWD', async (t) => {
  const s = await setup(t)
  s.collect(makeEvent(EventType.Custom, { eventName: 'purchase_gbp', revenue: Money.fromMinor(2999, 'GBP') }))
  s.collect(makeEvent(EventType.Custom, { eventName: 'purchase_jpy', revenue: Money.fromMinor(500, 'JPY') }))
  s.collect(makeEvent(EventType.Custom, { eventName: 'purchase_kwd', revenue: Money.fromMinor(1500, 'KWD') }))
  s.collect(makeEvent(EventType.Custom, { eventName: 'refund', revenue: Money.fromDecimal('-12.50', 'EUR') }))
  await s.finish()
  const events = allEvents(s.bodies())
  t.same(events.map((e) => [e.params.value, e.params.currency]), [[29.99, 'GBP'], [500, 'JPY'], [1.5, 'KWD'], [-12.5, 'EUR']])
})

test('standard parameters win over clashing properties, which are renamed', async (t) => {
  const s = await setup(t)
  const properties = Object.assign(Object.create(null) as Record<string, string>, {
    value: '1000000',
    currency: 'XXX',
    page_location: 'https://evil.example/',
    session_id: '0',
    engagement_time_msec: '0',
    plan: 'annual'
  })
  s.collect(makeEvent(EventType.Custom, { eventName: 'checkout', revenue: Money.fromMinor(2999, 'GBP'), properties }))
  await s.finish()
  const [event] = allEvents(s.bodies())
  t.equal(event.params.value, 29.99)
  t.equal(event.params.currency, 'GBP')
  t.equal(event.params.page_location, 'https://shop.example/basket')
  t.ok(Number(event.params.session_id) > 1)
  t.equal(event.params.engagement_time_msec, 1)
  t.equal(event.params.x_value, '1000000', 'the property is kept under a name of its own')
  t.equal(event.params.x_page_location, 'https://evil.example/')
  t.equal(event.params.plan, 'annual')
})

test('64 properties become at most 25 parameters; names made valid, reserved ones renamed', async (t) => {
  const s = await setup(t)
  const properties = Object.create(null) as Record<string, string>
  for (let i = 0; i < 64; i++) properties[`prop${i}`] = String(i)
  s.collect(makeEvent(EventType.PageView, { properties, referrer: 'https://r.example/', locale: 'fr' }))
  const odd = Object.assign(Object.create(null) as Record<string, string>, {
    google_campaign: 'a', ga_x: 'b', firebase_conversion: 'c', '1st': 'd', 'a b!c': 'e', a_b_c: 'dup', '!!!': 'gone', ['__proto__']: 'p'
  })
  s.collect(makeEvent(EventType.Custom, { eventName: 'session_start', properties: odd }))
  await s.finish()
  const [pageView, custom] = allEvents(s.bodies())
  t.equal(Object.keys(pageView.params).length, 25)
  t.same(Object.keys(pageView.params).slice(0, 5), ['session_id', 'engagement_time_msec', 'page_location', 'page_referrer', 'language'])
  t.equal(pageView.params.prop19, '19', 'properties in order')
  t.equal(pageView.params.prop20, undefined, 'the 26th parameter is left out')
  t.equal(custom.name, 'x_session_start')
  t.same(custom.params, {
    session_id: custom.params.session_id,
    engagement_time_msec: 1,
    page_location: 'https://shop.example/basket',
    x_google_campaign: 'a',
    x_ga_x: 'b',
    x_firebase_conversion: 'c',
    x_1st: 'd',
    a_b_c: 'e',
    proto: 'p'
  }, 'two properties with one valid name: the first wins; unusable names are skipped')
})

test('every limit at and over its edge', async (t) => {
  const s = await setup(t)
  const props = (value: string): Record<string, string> => Object.assign(Object.create(null) as Record<string, string>, { v: value })
  const base = 'https://shop.example/'
  s.collect(makeEvent(EventType.Custom, { eventName: 'n'.repeat(40), properties: props('v'.repeat(100)) }))
  s.collect(makeEvent(EventType.Custom, { eventName: 'n'.repeat(41), properties: props('v'.repeat(101)) }))
  s.collect(makeEvent(EventType.PageView, { url: base + 'p'.repeat(1000 - base.length), referrer: 'r'.repeat(420) }))
  s.collect(makeEvent(EventType.PageView, { url: base + 'p'.repeat(1001 - base.length), referrer: 'r'.repeat(421) }))
  s.collect(makeEvent(EventType.Custom, { eventName: 'emoji', properties: props('😀'.repeat(101)) }))
  s.collect(makeEvent(EventType.Custom, { eventName: 'user', userId: 'u'.repeat(256) }))
  s.collect(makeEvent(EventType.Custom, { eventName: 'user', userId: 'u'.repeat(257) }))
  await s.finish()
  const bodies = s.bodies()
  const events = allEvents(bodies)
  t.equal(events[0].name.length, 40)
  t.equal(events[0].params.v, 'v'.repeat(100))
  t.equal(events[1].name, 'n'.repeat(40))
  t.equal(events[1].params.v, 'v'.repeat(100))
  t.equal(String(events[2].params.page_location).length, 1000)
  t.equal(String(events[2].params.page_referrer).length, 420)
  t.equal(String(events[3].params.page_location).length, 1000)
  t.equal(String(events[3].params.page_referrer).length, 420)
  t.equal(events[4].params.v, '😀'.repeat(100), 'cut on a code-point boundary')
  t.same(bodies.map((b) => b.user_id), [undefined, 'u'.repeat(256)], 'a 257-character user id is left out, not cut')
})

test('25 events fit one request, the 26th opens another', async (t) => {
  const s = await setup(t, { flushIntervalMs: 50 })
  for (let i = 0; i < 25; i++) s.collect(makeEvent(EventType.Custom, { eventName: `e${i}`, clientIP: '198.51.100.1' }))
  for (let i = 0; i < 26; i++) s.collect(makeEvent(EventType.Custom, { eventName: `e${i}`, clientIP: '198.51.100.2' }))
  await s.finish()
  const bodies = s.bodies()
  t.same(bodies.map((b) => [b.ip_override, b.events.length]), [['198.51.100.1', 25], ['198.51.100.2', 25], ['198.51.100.2', 1]])
  t.same(bodies[2].events[0].name, 'e25', 'order kept')
})

test('bodies stay under 130 kB: big events split the request, measured in bytes', async (t) => {
  const s = await setup(t, { flushIntervalMs: 50 })
  const properties = Object.create(null) as Record<string, string>
  // 3 bytes a character in UTF-8: 100 characters are 300 bytes, and 23 of them ~7 kB an event.
  for (let i = 0; i < 23; i++) properties[`p${i}`] = '€'.repeat(100)
  for (let i = 0; i < 25; i++) s.collect(makeEvent(EventType.Custom, { eventName: 'big', properties }))
  await s.finish()
  const sizes = s.sink.requests.map((r) => r.body.length)
  t.ok(sizes.length >= 2, `split into ${sizes.length} requests`)
  for (const size of sizes) t.ok(size < 130_000, `${size} bytes < 130 000`)
  t.ok(sizes[0] > 100_000, 'the first request is filled close to the limit')
  t.equal(allEvents(s.bodies()).length, 25)
})

test('two visitors: two requests, each with its own client_id; ip_override only for real IPs', async (t) => {
  const s = await setup(t)
  s.collect(makeEvent(EventType.PageView, { clientIP: '198.51.100.1', path: '/a' }))
  s.collect(makeEvent(EventType.PageView, { clientIP: '2001:db8::1', path: '/b' }))
  s.collect(makeEvent(EventType.PageView, { clientIP: '198.51.100.1', path: '/c' }))
  s.collect(makeEvent(EventType.PageView, { clientIP: 'unknown', path: '/d' }))
  await s.finish()
  const bodies = s.bodies()
  t.equal(bodies.length, 3)
  t.equal(bodies[0].events.length, 2)
  t.equal(bodies[0].ip_override, '198.51.100.1')
  t.equal(bodies[1].ip_override, '2001:db8::1')
  t.equal(bodies[2].ip_override, undefined, 'not an IP: not sent')
  t.equal(new Set(bodies.map((b) => b.client_id)).size, 3)
  for (const body of bodies) {
    t.match(body.client_id, /^\d+\.\d+$/)
    t.notOk(JSON.stringify(body.client_id).includes('198.51.100.1'), 'no raw IP in the client id')
  }
})

test('ipOverride: false sends no IP', async (t) => {
  const s = await setup(t, { ipOverride: false })
  s.collect(makeEvent(EventType.PageView))
  await s.finish()
  t.equal(s.bodies()[0].ip_override, undefined)
})

test('the _ga cookie gives the client id and _ga_<stream> the session id (GS1 and GS2)', async (t) => {
  const s = await setup(t)
  s.collect(makeEvent(EventType.PageView, { cookie: 'theme=dark; _ga=GA1.1.1234567890.1700000000; _ga_TEST1234=GS1.1.1700001234.3.1.1700001300.0.0.0' }))
  s.collect(makeEvent(EventType.PageView, { cookie: '_ga=GA1.1.42.1700000000; _ga_TEST1234=GS2.1.s1700005678$o12$g1$t1700005700$j60$l0$h0' }))
  s.collect(makeEvent(EventType.PageView, { cookie: '_ga=GA1.1.42.1700000000' }))
  await s.finish()
  const bodies = s.bodies()
  t.same(bodies.map((b) => b.client_id), ['1234567890.1700000000', '42.1700000000'])
  t.equal(bodies[0].events[0].params.session_id, 1700001234)
  t.equal(bodies[1].events[0].params.session_id, 1700005678)
  t.ok(Number(bodies[1].events[1].params.session_id) > 1700005678, 'no session cookie: a session kept per client id')
})

test('the hashed client id: stable for a visitor within a day, different across days', async (t) => {
  const s = await setup(t)
  const now = Date.now()
  s.collect(makeEvent(EventType.PageView, { timestamp: new Date(now - 1000) }))
  s.collect(makeEvent(EventType.PageView, { timestamp: new Date(now) }))
  s.collect(makeEvent(EventType.PageView, { timestamp: new Date(now - 25 * HOUR) }))
  await s.finish()
  const bodies = s.bodies()
  // The first two share a UTC day unless the test runs across midnight (then three ids).
  const sameDay = new Date(now - 1000).getUTCDate() === new Date(now).getUTCDate()
  if (sameDay) {
    t.equal(bodies.length, 2)
    t.equal(bodies[0].events.length, 2, 'the same id: one request')
  }
  t.not(bodies[0].client_id, bodies[bodies.length - 1].client_id, 'another day, another id')
  for (const body of bodies) t.notOk(body.client_id.includes('203.0.113.7'))
})

test('session_id is kept for 30 minutes of activity and renewed after', async (t) => {
  // A fixed client id: the derived one rotates at UTC midnight, which this hour of events may cross.
  const s = await setup(t, { clientId: () => '1111.2222' })
  const now = Date.now()
  const times = [now - 60 * MINUTE, now - 45 * MINUTE, now - 10 * MINUTE, now - 9 * MINUTE]
  for (const at of times) s.collect(makeEvent(EventType.PageView, { timestamp: new Date(at) }))
  await s.finish()
  const ids = allEvents(s.bodies()).map((e) => e.params.session_id)
  t.equal(ids[0], Math.floor(times[0] / 1000), 'the session id is its start in seconds')
  t.equal(ids[1], ids[0], '15 minutes later: same session')
  t.equal(ids[2], Math.floor(times[2] / 1000), '35 minutes of silence: a new session')
  t.equal(ids[3], ids[2])
})

test('events older than 72 h are counted invalid and never sent', async (t) => {
  const s = await setup(t)
  const now = Date.now()
  s.collect(makeEvent(EventType.PageView, { timestamp: new Date(now - 73 * HOUR) }))
  s.collect(makeEvent(EventType.PageView, { timestamp: new Date(Number.NaN) }))
  s.collect(makeEvent(EventType.PageView, { timestamp: new Date(now - 71 * HOUR) }))
  s.collect(makeEvent(EventType.PageView, { timestamp: new Date(now + HOUR) }))
  await s.finish()
  const stats = s.collector.stats()
  t.equal(stats.dropped.invalid, 2)
  t.equal(stats.delivered, 2)
  const events = allEvents(s.bodies())
  t.equal(events[0].timestamp_micros, (now - 71 * HOUR) * 1000)
  t.ok(events[1].timestamp_micros <= Date.now() * 1000, 'a future timestamp is clamped to now')
})

test('user_id is sent at the top level and groups requests', async (t) => {
  const s = await setup(t)
  s.collect(makeEvent(EventType.PageView, { userId: 'user-1' }))
  s.collect(makeEvent(EventType.PageView, { userId: '' }))
  s.collect(makeEvent(EventType.PageView, { userId: 'user-1' }))
  await s.finish()
  t.same(s.bodies().map((b) => [b.user_id, b.events.length]), [['user-1', 2], [undefined, 1]])
})

test('the clientId option overrides, and falls back when it has no answer or throws', async (t) => {
  const s = await setup(t, {
    clientId: (event) => {
      if (event.userId === 'throws') throw new Error('boom')
      return event.userId === 'known' ? 'custom.1' : undefined
    }
  })
  s.collect(makeEvent(EventType.PageView, { userId: 'known', cookie: '_ga=GA1.1.5.6' }))
  s.collect(makeEvent(EventType.PageView, { userId: 'other', cookie: '_ga=GA1.1.5.6' }))
  s.collect(makeEvent(EventType.PageView, { userId: 'throws' }))
  await s.finish()
  const ids = s.bodies().map((b) => b.client_id)
  t.equal(ids[0], 'custom.1')
  t.equal(ids[1], '5.6')
  t.match(ids[2], /^\d+\.\d+$/)
  t.ok(s.logs.some((line) => line.includes('clientId option threw')))
})

test('debug mode posts to /debug/mp/collect; validation messages count the request rejected and are logged', async (t) => {
  const messages = JSON.stringify({ validationMessages: [{ fieldPath: 'events', description: 'Event at index: [0] has invalid name [bad].', validationCode: 'NAME_INVALID' }] })
  let answer = messages
  const s = await setup(t, { debug: true }, () => ({ kind: 'respond', status: 200, headers: { 'content-type': 'application/json' }, body: answer }))
  s.collect(makeEvent(EventType.PageView, { clientIP: '198.51.100.1' }))
  s.collect(makeEvent(EventType.PageView, { clientIP: '198.51.100.1' }))
  await s.collector.flush(AbortSignal.timeout(5000))
  answer = '{"validationMessages":[]}'
  s.collect(makeEvent(EventType.PageView, { clientIP: '198.51.100.2' }))
  await s.finish()
  t.match(s.sink.requests[0].url, /^\/debug\/mp\/collect\?measurement_id=G-TEST1234&api_secret=/)
  const stats = s.collector.stats()
  t.equal(stats.dropped.rejected, 2)
  t.equal(stats.delivered, 1)
  const logged = s.logs.filter((line) => line.includes('GA4 validation message')).map((line) => JSON.parse(line) as Record<string, unknown>)
  t.equal(logged.length, 1)
  t.equal(logged[0].validationCode, 'NAME_INVALID')
  t.equal(logged[0].description, 'Event at index: [0] has invalid name [bad].')
})

test('a 5xx is retried with the same bytes', async (t) => {
  const s = await setup(t, {}, (_request, index) => index === 0 ? { kind: 'respond', status: 503 } : { kind: 'respond', status: 204 })
  s.collect(makeEvent(EventType.PageView, { properties: Object.assign(Object.create(null) as Record<string, string>, { plan: 'annual' }) }))
  s.collect(makeEvent(EventType.Custom, { eventName: 'signup', revenue: Money.fromMinor(100, 'GBP') }))
  await s.finish()
  t.equal(s.sink.requests.length, 2)
  t.ok(s.sink.requests[0].body.equals(s.sink.requests[1].body), 'identical bodies')
  t.equal(s.sink.requests[0].url, s.sink.requests[1].url)
  const stats = s.collector.stats()
  t.equal(stats.retries, 1)
  t.equal(stats.delivered, 2)
  t.equal(s.bodies()[1].events[0].params.plan, 'annual', 'the retry still carries every parameter')
})

test('the API secret is never in logs, util.inspect or stats', async (t) => {
  let calls = 0
  const s = await setup(t, { retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 2 } }, () => {
    calls++
    return calls <= 2 ? { kind: 'respond', status: 500, body: `echo ${SECRET}` } : { kind: 'respond', status: 400, body: `bad request api_secret=${SECRET}` }
  })
  s.collect(makeEvent(EventType.PageView, { clientIP: '198.51.100.1' }))
  await s.collector.flush(AbortSignal.timeout(5000))
  s.collect(makeEvent(EventType.PageView, { clientIP: '198.51.100.2' }))
  await s.finish()
  const stats = s.collector.stats()
  t.equal(stats.dropped.failed, 1, 'retries exhausted')
  t.equal(stats.dropped.rejected, 1, '400 rejected')
  t.ok(s.logs.length >= 2, 'failures were logged')
  for (const line of s.logs) t.notOk(line.includes(SECRET), 'no secret in a log line')
  t.notOk(inspect(s.collector, { depth: Infinity, showHidden: true }).includes(SECRET), 'not in util.inspect')
  t.notOk(JSON.stringify(s.collector).includes(SECRET), 'not in JSON')
  t.notOk(JSON.stringify(stats).includes(SECRET), 'not in stats()')
  t.ok(s.sink.requests[0].url.includes(SECRET), 'but it is in the request, where GA needs it')
})

/** A proxy-like dispatcher: records the origin the collector asked for and sends to the sink. */
class Redirect extends Dispatcher {
  readonly origins: string[] = []
  readonly #agent = new Agent()
  readonly #to: string

  constructor (to: string) {
    super()
    this.#to = to
  }

  override dispatch (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.origins.push(String(options.origin))
    return this.#agent.dispatch({ ...options, origin: this.#to }, handler)
  }

  override async close (): Promise<void> {
    await this.#agent.close()
  }
}

test('region "eu" sends to region1.google-analytics.com, the default to www; endpoint overrides both', async (t) => {
  for (const [options, origin] of [[{ region: 'eu' }, EU_ORIGIN], [{}, GLOBAL_ORIGIN], [{ region: 'global' }, GLOBAL_ORIGIN]] as const) {
    const sink = await startSink({ validate: validateGa4Request })
    const redirect = new Redirect(sink.origin)
    const collector = ga4Collector({ measurementId: MEASUREMENT_ID, apiSecret: SECRET, flushIntervalMs: 5, dispatcher: redirect, ...options })
    collector.start(AbortSignal.timeout(1000), { log: logCapture().log })
    collector.collect(makeEvent(EventType.PageView))
    await collector.flush(AbortSignal.timeout(5000))
    await collector.close(AbortSignal.timeout(5000))
    await redirect.close()
    await sink.close()
    t.same(redirect.origins, [origin])
    t.equal(collector.stats().delivered, 1)
    t.same(sink.violations, [])
  }
  const s = await setup(t, { region: 'eu' })
  s.collect(makeEvent(EventType.PageView))
  await s.finish()
  t.equal(s.sink.requests.length, 1, 'an explicit endpoint wins over the region')
})

test('collect queues thousands of events from many visitors without sending before the interval', async (t) => {
  // The cost per event is measured in bench/, not here: timed assertions flake on shared machines.
  const s = await setup(t, { maxQueueSize: 100_000, flushIntervalMs: 60_000, maxBatchSize: 100_000 })
  const events = Array.from({ length: 2000 }, (_, i) => makeEvent(EventType.PageView, {
    clientIP: `198.51.${i % 200}.${i % 250}`,
    cookie: i % 2 === 0 ? `_ga=GA1.1.${i}.1700000000` : 'theme=dark',
    properties: Object.assign(Object.create(null) as Record<string, string>, { plan: 'annual', variant: 'b' })
  }))
  for (let round = 0; round < 6; round++) {
    for (const event of events) s.collect(event)
  }
  t.equal(s.collector.stats().queued, 12_000)
  t.equal(s.sink.requests.length, 0)
  await s.finish()
  t.equal(s.collector.stats().delivered, 12_000)
})

test('collect keeps no reference to the event, its request headers or its properties', async (t) => {
  v8.setFlagsFromString('--expose_gc')
  const gc = vm.runInNewContext('gc') as () => void
  const s = await setup(t, { flushIntervalMs: 60_000 })
  const refs = ((): Array<WeakRef<object>> => {
    const event = makeEvent(EventType.PageView, { cookie: '_ga=GA1.1.5.6', properties: Object.assign(Object.create(null) as Record<string, string>, { plan: 'annual' }) })
    s.collect(event)
    return [new WeakRef(event), new WeakRef(event.requestHeaders), new WeakRef(event.properties)]
  })()
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  t.equal(s.collector.stats().queued, 1, 'the event is still queued')
  t.same(refs.map((ref) => ref.deref()), [undefined, undefined, undefined], 'yet the event, its request headers and its properties were collected')
  await s.finish()
  t.equal(s.bodies()[0].events[0].params.plan, 'annual')
})

test('debug mode: non-2xx answers are read as usual, a body that is not JSON counts delivered and is logged', async (t) => {
  const answers: SinkPolicy = (_request, index) => {
    if (index === 0) return { kind: 'respond', status: 503 }
    if (index === 1) return { kind: 'respond', status: 200, body: '{"validationMessages":[]}' }
    if (index === 2) return { kind: 'respond', status: 200, body: '<html>' }
    return { kind: 'respond', status: 200, body: '{"validationMessages":[{"fieldPath":7}]}' }
  }
  const s = await setup(t, { debug: true }, answers)
  s.collect(makeEvent(EventType.PageView))
  await s.collector.flush(AbortSignal.timeout(5000))
  s.collect(makeEvent(EventType.PageView))
  await s.collector.flush(AbortSignal.timeout(5000))
  s.collect(makeEvent(EventType.PageView))
  await s.finish()
  const stats = s.collector.stats()
  t.equal(stats.retries, 1, 'the 503 was retried')
  t.equal(stats.delivered, 2)
  t.equal(stats.dropped.rejected, 1)
  t.ok(s.logs.some((line) => line.includes('without a JSON body')))
  const logged = s.logs.filter((line) => line.includes('GA4 validation message')).map((line) => JSON.parse(line) as Record<string, unknown>)
  t.same([logged[0].fieldPath, logged[0].description], ['', ''], 'fields that are not strings are logged empty')
})

test('the clientId option: unusable answers fall back to the default and are logged', async (t) => {
  const answers: unknown[] = ['', 42, 'x'.repeat(257)]
  let call = 0
  const s = await setup(t, {
    clientId: () => {
      const answer = answers[call++]
      if (answer === undefined) throw 'not an Error' // eslint-disable-line no-throw-literal
      return answer as string
    }
  })
  for (let i = 0; i < 4; i++) s.collect(makeEvent(EventType.PageView))
  await s.finish()
  t.same(s.bodies().map((b) => b.events.length), [4], 'every event fell back to the derived id')
  t.ok(s.logs.some((line) => line.includes('no usable id')))
})

test('bounded caches: parameter names, derived ids and cookie headers', async (t) => {
  let wrong = 0
  for (let i = 0; i < 1100; i++) if (paramName(`name${i}`) !== `name${i}`) wrong++
  t.equal(wrong, 0, '1100 names, more than the cache holds')
  t.equal(paramName('name0'), 'name0', 'still right after the cache was cleared')
  const hasher = new ClientIdHasher(SECRET)
  const at = Date.UTC(2026, 0, 15)
  const first = hasher.id('192.0.2.1', 'UA', 'h', at)
  for (let i = 0; i < 5000; i++) hasher.id(`10.0.${i >> 8}.${i & 255}`, 'UA', 'h', at)
  t.equal(hasher.id('192.0.2.1', 'UA', 'h', at), first, 'the same id after the cache was cleared')
  const stream = sessionCookieName(MEASUREMENT_ID)
  t.equal(readGaCookies([3, '_ga=GA1.1.5.6'], stream).clientId, '5.6', 'array entries that are not strings are skipped')
  const many = Array.from({ length: 10_000 }, () => 'x=1')
  many.push('_ga=GA1.1.5.6')
  t.equal(readGaCookies(many, stream).clientId, undefined, 'only the first 8 KiB of a header are read')
  t.equal(readGaCookies(`${'y=2; '.repeat(2000)}_ga=GA1.1.5.6`, stream).clientId, undefined)
  t.equal(readGaCookies('_ga_TEST1234=GS1.1.0.1.1', stream).sessionId, undefined, 'session id 0 is no session id')
  t.equal(readGaCookies(`_ga_TEST1234=GS1.1.1700001234.${'1'.repeat(200)}`, stream).sessionId, undefined, 'an overlong value is ignored')
})

test('user ids: measured in characters; an event too big for any request is invalid', async (t) => {
  const s = await setup(t)
  s.collect(makeEvent(EventType.PageView, { userId: '😀'.repeat(200) }))
  await s.finish()
  t.equal(s.bodies()[0].user_id, '😀'.repeat(200), '200 characters in 400 UTF-16 units: kept')
  const now = Date.now()
  const huge: Ga4Item = { clientId: 'a', userId: '', ip: '', device: '', adsDenied: false, atMs: now, sessionPending: false, event: { name: 'e', params: { session_id: 1, engagement_time_msec: 1, p: 'x'.repeat(130_000) }, timestamp_micros: now * 1000 } }
  const small: Ga4Item = { ...huge, event: { name: 'e', params: { session_id: 1, engagement_time_msec: 1 }, timestamp_micros: now * 1000 } }
  const { requests, invalid } = encodeGa4Batch([huge, small], '/mp/collect', now)
  t.equal(invalid, 1)
  t.same(requests.map((r) => r.events), [1])
})

test('more option checks: endpoint type and credentials, options object', async (t) => {
  const base = { measurementId: MEASUREMENT_ID, apiSecret: SECRET }
  t.throws(() => ga4Collector(null as unknown as Ga4CollectorOptions), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /options must be an object/ })
  t.throws(() => ga4Collector({ ...base, endpoint: 42 as unknown as string }), { message: /endpoint must be a string/ })
  t.throws(() => ga4Collector({ ...base, endpoint: 'https://user:pw@proxy.example' }), { message: /credentials/ })
  t.equal(ga4Collector({ ...base, endpoint: 'https://proxy.example:8443/' }).name, 'ga4', 'a trailing slash is still an origin')
})

test('end to end through the plugin: cookies from the real request, accounting in app.analytics.stats()', async (t) => {
  const sink = await startSink({ validate: validateGa4Request })
  const app = Fastify()
  t.teardown(async () => { await app.close(); await sink.close() })
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    collectors: [ga4Collector({ measurementId: MEASUREMENT_ID, apiSecret: SECRET, endpoint: sink.origin, flushIntervalMs: 5 })]
  })
  app.get('/products/:id', async () => 'ok')
  app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
    request.analytics.setRevenue(Money.fromMinor(2999, 'GBP'))
    request.analytics.addProperty('plan', 'annual')
    return 'ok'
  })
  const cookie = '_ga=GA1.1.111.1700000000; _ga_TEST1234=GS2.1.s1700009999$o1$g1$t1700009999$j0$l0$h0'
  await app.inject({ method: 'GET', url: '/products/7', headers: { cookie, 'accept-language': 'en-GB,en;q=0.8', referer: 'https://search.example/' } })
  await app.inject({ method: 'POST', url: '/checkout', headers: { cookie, 'accept-language': 'en-GB' } })
  await app.inject({ method: 'GET', url: '/products/8' })
  await app.close()
  const bodies = sink.requests.map((r) => JSON.parse(r.body.toString('utf8')) as Ga4Body)
  t.same(sink.violations, [])
  t.equal(bodies[0].client_id, '111.1700000000')
  // The checkout carries revenue and `checkout` is no GA4 ecommerce event: it goes as a purchase.
  t.same(bodies[0].events.map((e) => [e.name, e.params.session_id]), [['page_view', 1700009999], ['purchase', 1700009999]])
  t.match(bodies[0].events[0].params.page_location, /^http:\/\/localhost(:80)?\/products\/7$/, 'inject sends Host: localhost:80')
  t.equal(bodies[0].events[0].params.language, 'en-GB')
  t.same([bodies[0].events[1].params.value, bodies[0].events[1].params.currency, bodies[0].events[1].params.plan], [29.99, 'GBP', 'annual'])
  t.match(bodies[1].client_id, /^\d+\.\d+$/, 'no cookie: the derived id')
  const stats = app.analytics.stats().collectors.ga4
  t.equal(stats.accepted, 3)
  t.equal(stats.delivered, 3)
  t.equal(stats.queued + stats.inFlight, 0)
})

test('GA4 sees devices: the request-level device object from the visitor\'s client, grouped like client_id', async (t) => {
  const sink = await startSink({ validate: validateGa4Request })
  const app = Fastify()
  t.teardown(async () => { await app.close(); await sink.close() })
  await app.register(analytics, {
    collectors: [ga4Collector({ measurementId: MEASUREMENT_ID, apiSecret: SECRET, endpoint: sink.origin, flushIntervalMs: 5 })]
  })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<p>hi</p>'))
  const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'
  const tv = 'Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36'
  await app.inject({ url: '/', headers: { 'user-agent': iphone, 'accept-language': 'fr-FR,fr;q=0.9', cookie: '_ga=GA1.1.222.1700000000' } })
  await app.inject({ url: '/', headers: { 'user-agent': tv, cookie: '_ga=GA1.1.333.1700000000' } })
  await app.inject({ url: '/', headers: { cookie: '_ga=GA1.1.444.1700000000' } })
  await app.close()
  t.same(sink.violations, [])
  const bodies = sink.requests.map((r) => JSON.parse(r.body.toString('utf8')) as Ga4Body)
  const byClient = Object.fromEntries(bodies.map((b) => [b.client_id, b.device]))
  t.same(byClient['222.1700000000'], {
    category: 'mobile', language: 'fr-FR', operating_system: 'iOS', operating_system_version: '17.1', browser: 'Mobile Safari', browser_version: '17.1'
  })
  t.same(byClient['333.1700000000'], { category: 'smart TV', operating_system: 'Tizen', operating_system_version: '6.0', browser: 'Samsung Internet', browser_version: '4.0' })
  t.equal(byClient['444.1700000000'], undefined, 'app.inject\'s test client: nothing known, no device object')
})

test('the device object is remembered per frozen client and locale only: a client that may change is read afresh', async (t) => {
  const frozen = Object.freeze({ browser: 'Firefox', browserVersion: '128.0', os: 'Linux', osVersion: '', device: 'desktop' as const, bot: false, crawler: null })
  const at = (client: AnalyticsEvent['client'], locale: string): AnalyticsEvent => Object.assign(createEvent(EventType.PageView, new Date()), { client, locale })
  const english = ga4Device(at(frozen, 'en-GB'))
  t.same(JSON.parse(english), { category: 'desktop', language: 'en-GB', operating_system: 'Linux', browser: 'Firefox', browser_version: '128.0' })
  t.equal(ga4Device(at(frozen, 'en-GB')), english, 'the same client and locale: the same object')
  t.same(JSON.parse(ga4Device(at(frozen, 'de'))), { category: 'desktop', language: 'de', operating_system: 'Linux', browser: 'Firefox', browser_version: '128.0' }, 'another locale: its own')
  t.same(JSON.parse(ga4Device(at(frozen, ''))), { category: 'desktop', operating_system: 'Linux', browser: 'Firefox', browser_version: '128.0' })
  const open = { browser: 'Chrome', browserVersion: '126.0', os: 'Android', osVersion: '14', device: 'mobile' as AnalyticsEvent['client']['device'], bot: false, crawler: null }
  t.match(JSON.parse(ga4Device(at(open, 'fr'))), { category: 'mobile', browser: 'Chrome' })
  open.browser = 'Samsung Internet'
  open.device = 'tablet'
  t.match(JSON.parse(ga4Device(at(open, 'fr'))), { category: 'tablet', browser: 'Samsung Internet' }, 'a client that is not frozen is never served from memory')
})

test('derived client ids: the same per visitor, apart per IP, user agent or hostname, whichever was seen first', async (t) => {
  const hasher = new ClientIdHasher(SECRET)
  const day = Date.UTC(2026, 11, 8, 12)
  const a = hasher.id('203.0.113.7', 'UA', 'shop.example', day)
  const ids = [a, hasher.id('203.0.113.8', 'UA', 'shop.example', day), hasher.id('203.0.113.7', 'UA2', 'shop.example', day), hasher.id('203.0.113.7', 'UA', 'blog.example', day)]
  t.equal(new Set(ids).size, 4, 'each field makes its own visitor')
  t.equal(hasher.id('203.0.113.7', 'UA', 'shop.example', day), a, 'remembered')
  t.equal(new ClientIdHasher(SECRET).id('203.0.113.7', 'UA', 'shop.example', day), a, 'as derived afresh')
  // Fields that run into each other must not collide: the IP, user agent and hostname are kept apart.
  t.not(hasher.id('203.0.113.7', 'UAshop.example', '', day), hasher.id('203.0.113.7', 'UA', 'shop.example', day))
})
