import { test } from 'tap'
import type { TapTest } from '../helpers/collectors.js'
import { createEvent, EventType, type AnalyticsEvent, type EventType as EventTypeValue } from '../../lib/event.js'
import { Money } from '../../lib/money.js'
import * as umamiPublic from '../../lib/collectors/umami.js'
import { umamiCollector, type UmamiCollector, type UmamiCollectorOptions } from '../../lib/collectors/umami.js'
import { umamiName, umamiUrl } from '../../lib/collectors/umami/payload.js'
import { interpretUmamiResponse } from '../../lib/collectors/umami/response.js'
import { defaultInterpret } from '../../lib/batch/verdict.js'
import type { Sink, SinkPolicy } from '../helpers/sink.js'
import { collectorHarness, type CollectorHarness } from '../helpers/collector-harness.js'
import { umamiAnswer, umamiRules, type UmamiRulesOptions } from '../servers/umami-rules.js'

const WEBSITE = '0b7f5a8c-1d2e-4f3a-8b9c-0d1e2f3a4b5c'
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 4 }

function event (overrides: Partial<AnalyticsEvent> = {}, type: EventTypeValue = EventType.PageView): AnalyticsEvent {
  const e = createEvent(type, new Date('2026-11-27T10:00:00.000Z'))
  e.hostname = 'shop.example'
  e.url = 'https://shop.example/products/42?ref=mail#reviews'
  e.path = '/products/42'
  e.method = 'GET'
  e.userAgent = UA
  e.clientIP = '203.0.113.7'
  e.locale = 'en-GB'
  e.statusCode = 200
  return Object.assign(e, overrides)
}

function props (values: Record<string, unknown>): AnalyticsEvent['properties'] {
  // Typed values (issue 25 item 7) are cast in: the collector must send each as its own JSON type.
  return Object.assign(Object.create(null), values) as AnalyticsEvent['properties']
}

function sent (sink: Sink, index = 0): { type: string, payload: Record<string, any> } {
  return JSON.parse(sink.requests[index].body.toString('utf8')) as { type: string, payload: Record<string, any> }
}

function all (sink: Sink): Array<Record<string, any>> {
  return sink.requests.map((_, i) => sent(sink, i).payload)
}

type Harness = CollectorHarness<UmamiCollector>

async function harness (t: TapTest, options: Partial<UmamiCollectorOptions> = {}, policy?: SinkPolicy, prefix = ''): Promise<Harness> {
  const rules: UmamiRulesOptions = { websiteId: WEBSITE, path: `${prefix}/api/send`, ipHeader: options.ipHeader?.toLowerCase() }
  return await collectorHarness(t, {
    validate: umamiRules(rules),
    policy: policy ?? ((request) => umamiAnswer(request, rules))
  }, (sink) => umamiCollector({ websiteId: WEBSITE, baseUrl: `${sink.origin}${prefix}`, retry: FAST_RETRY, ...options }),
  'every request follows Umami\'s /api/send schema')
}

test('a page view is an event without a name: website, hostname, language, url (path and query), referrer; the visitor\'s UA and IP in headers', async (t) => {
  const h = await harness(t)
  h.collect(event({ referrer: 'https://search.example/?q=boots' }))
  const report = await h.finish()
  t.equal(report.delivered, 1)
  t.same(sent(h.sink), {
    type: 'event',
    payload: { website: WEBSITE, url: '/products/42?ref=mail', hostname: 'shop.example', language: 'en-GB', referrer: 'https://search.example/?q=boots' }
  })
  const headers = h.sink.requests[0].headers
  t.equal(headers['user-agent'], UA, 'Umami reads browser, OS, device and its bot check from it')
  t.equal(headers['x-forwarded-for'], '203.0.113.7', 'the header Umami reads first of those a proxy sets')
  t.equal(headers['x-client-ip'], undefined)
})

test('actions and custom events are named events with data, each value of its own JSON type; revenue as revenue and currency', async (t) => {
  const h = await harness(t)
  h.collect(event({ actionName: 'checkout', method: 'POST', revenue: Money.fromMinor(2999, 'GBP'), properties: props({ plan: 'annual', seats: 3, trial: false }) }, EventType.Action))
  h.collect(event({ eventName: 'signup' }, EventType.Custom))
  await h.finish()
  const [checkout, signup] = all(h.sink).sort((a, b) => a.name.localeCompare(b.name))
  t.equal(checkout.name, 'checkout')
  t.same(checkout.data, { plan: 'annual', seats: 3, trial: false, revenue: 29.99, currency: 'GBP' })
  t.equal(signup.name, 'signup')
  t.equal(signup.data, undefined, 'no data when there is none')
})

test('ip option: full by default, truncate, none; ipHeader for an instance with CLIENT_IP_HEADER', async (t) => {
  for (const [ip, expected] of [[undefined, '203.0.113.7'], ['truncate', '203.0.113.0'], ['none', undefined]] as const) {
    const h = await harness(t, ip === undefined ? {} : { ip })
    h.collect(event())
    await h.finish()
    t.equal(h.sink.requests[0].headers['x-forwarded-for'], expected, `ip: ${ip ?? 'default'}`)
  }
  const h = await harness(t, { ipHeader: 'CF-Connecting-IP' })
  h.collect(event({ consent: 'anonymous' }))
  await h.finish()
  t.equal(h.sink.requests[0].headers['cf-connecting-ip'], '203.0.113.0', 'in the configured header; an anonymous visitor\'s truncated')
  t.equal(h.sink.requests[0].headers['x-forwarded-for'], undefined)
})

test('without the visitor\'s User-Agent the event is not sent (counted invalid); a bot\'s is answered {"beep":"boop"} and counted destination', async (t) => {
  const h = await harness(t)
  h.collect(event({ userAgent: '' }))
  h.collect(event({ userAgent: '\r\n' }))
  h.collect(event({ userAgent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' }))
  h.collect(event())
  const report = await h.finish()
  t.equal(report.dropped.invalid, 2)
  t.equal(report.dropped.destination, 1)
  t.equal(report.delivered, 1, 'the bot\'s request reached Umami, which recorded nothing: destination, not delivered')
  t.equal(h.sink.requests.length, 2)
  t.ok(h.logs.lines.some((line) => /User-Agent/.test(JSON.stringify(line))), 'both logged')
})

test('limits: url 500, referrer 500, hostname 100, language 35, name 50 and no leading formula trigger, data 50 × 500', async (t) => {
  const h = await harness(t)
  const many: Record<string, string> = {}
  // First, so it is within the 48 the data has room for: the key itself is what is refused.
  Object.defineProperty(many, '__proto__', { value: 'refused key', enumerable: true, writable: true, configurable: true })
  many['x'.repeat(120)] = 'long key'
  for (let i = 0; i < 60; i++) many[`k${i}`] = 'v'.repeat(600)
  h.collect(event({
    url: `https://shop.example/${'p'.repeat(600)}?${'q'.repeat(600)}`,
    referrer: `https://ref.example/${'r'.repeat(600)}`,
    hostname: 'h'.repeat(150),
    locale: 'l'.repeat(50),
    eventName: `=+-@${'n'.repeat(80)}`,
    properties: props(many),
    revenue: Money.fromMinor(100, 'EUR')
  }, EventType.Custom))
  await h.finish()
  const payload = all(h.sink)[0]
  t.equal(payload.url.length, 500)
  t.equal(payload.referrer.length, 500)
  t.equal(payload.hostname.length, 100)
  t.equal(payload.language.length, 35)
  t.equal(payload.name, 'n'.repeat(50))
  t.equal(Object.keys(payload.data).length, 50, '48 properties and revenue, currency')
  t.same([payload.data.revenue, payload.data.currency], [1, 'EUR'])
  t.equal(payload.data.k0.length, 500)
  t.notOk(Object.hasOwn(payload.data, '__proto__'), 'a key the schema refuses is left out')
  t.equal(payload.data['x'.repeat(100)], 'long key', 'a long key is cut to 100 characters')
})

test('limits count JavaScript length as Umami\'s schema does: emoji and non-ASCII text stay within them, never half a pair', async (t) => {
  const h = await harness(t)
  const emoji = '😀'.repeat(400) // 400 code points, 800 UTF-16 units
  h.collect(event({
    eventName: '🛒'.repeat(40),
    hostname: 'é'.repeat(60) + '😀'.repeat(40),
    url: `https://shop.example/${'ü'.repeat(400)}`,
    properties: props({ ['k😀'.repeat(60)]: emoji })
  }, EventType.Custom))
  const report = await h.finish()
  t.equal(report.delivered, 1, 'accepted by the schema check (the harness asserts no violation)')
  const payload = sent(h.sink).payload
  t.ok(payload.name.length <= 50 && payload.hostname.length <= 100 && payload.url.length <= 500)
  const [key, value] = Object.entries(payload.data as Record<string, string>)[0]
  t.ok(key.length <= 100 && value.length <= 500)
  for (const text of [payload.name, payload.hostname, key, value]) t.equal(text, text.toWellFormed(), 'no lone surrogate')
  t.match(payload.url, /^\/(%C3%BC)+$/, 'the path goes out percent-encoded, as Umami measures it')
})

test('url: relative and odd URLs become a path Umami reads as one', async (t) => {
  const cases: Array<[Partial<AnalyticsEvent>, string]> = [
    [{ url: '', path: '/from-a-job' }, '/from-a-job'],
    [{ url: '/relative?page=2', path: '/relative' }, '/relative?page=2'],
    [{ url: 'https://shop.example//evil.example/x', path: '//evil.example/x' }, '/evil.example/x'],
    [{ url: 'https://shop.example', path: '/' }, '/'],
    // Cut at 500 characters, then back to the last whole percent-escape.
    [{ url: `https://shop.example/${'%E2%82%AC'.repeat(200)}`, path: '/' }, `/${'%E2%82%AC'.repeat(55)}%E2`]
  ]
  for (const [overrides, expected] of cases) t.equal(umamiUrl(event(overrides)), expected, JSON.stringify(overrides.url).slice(0, 40))
  t.equal(umamiName(event({ actionName: '', eventName: 'signup' }, EventType.Action)), 'signup')
  t.equal(umamiName(event({}, EventType.PageView)), '')
  const h = await harness(t)
  h.collect(event({ eventName: '=' }, EventType.Custom))
  h.collect(event({ referrer: 'android-app://com.example' }))
  const report = await h.finish()
  t.equal(report.dropped.invalid, 1, 'a name that is only a formula trigger cannot be sent')
  t.equal(all(h.sink)[0].referrer, undefined, 'a referrer Umami cannot parse as http(s) is left out')
})

test('responses: 400 and 403 are final; 429 and 5xx are retried; every attempt byte for byte the same', async (t) => {
  for (const [status, outcome] of [[400, 'rejected'], [403, 'rejected'], [429, 'delivered'], [503, 'delivered']] as const) {
    let calls = 0
    const h = await harness(t, {}, () => (++calls === 1 ? { kind: 'respond', status, body: '{"error":"x"}' } : { kind: 'respond', status: 200, body: '{"cache":"t"}' }))
    h.collect(event())
    const report = await h.finish()
    if (outcome === 'rejected') t.same([report.dropped.rejected, h.sink.requests.length], [1, 1], `${status}: rejected, sent once`)
    else {
      t.same([report.delivered, report.retries], [1, 1], `${status}: retried, then delivered`)
      t.ok(h.sink.requests[1].body.equals(h.sink.requests[0].body))
    }
  }
  const request = { path: '/api/send', headers: {}, body: '{}', events: 1 }
  const read = (statusCode: number, body = '', headers: Record<string, string> = {}): unknown => interpretUmamiResponse({ statusCode, headers, body }, request, defaultInterpret)
  t.same(read(200, '{"cache":"x","sessionId":"s"}'), { outcome: 'delivered' })
  t.match(read(200, '{"beep": "boop"}'), { outcome: 'delivered', destinationDropped: 1 })
  t.match(read(400, '{"error":{"message":"Invalid URL."}}'), { outcome: 'rejected', detail: /Invalid URL/ })
  t.match(read(403), { outcome: 'rejected', detail: /IGNORE_IP/ })
  t.match(read(503, '', { 'retry-after': '2' }), { outcome: 'retry', retryAfterMs: 2000 })
})

test('events leave one per request, promptly, on a self-hosted instance under a path prefix', async (t) => {
  const h = await harness(t, {}, undefined, '/umami')
  for (let i = 0; i < 20; i++) h.collect(event({ eventName: `e${i}` }, EventType.Custom))
  await h.sink.waitForRequests(20, 2000)
  await h.finish()
  t.equal(h.sink.requests.length, 20)
  t.ok(h.sink.requests.every((r) => r.url === '/umami/api/send'))
})

test('bad options are refused at construction', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /options must be an object/],
    [{}, /websiteId is required/],
    [{ websiteId: 'site-1', baseUrl: 'https://umami.example' }, /websiteId is required/],
    [{ websiteId: WEBSITE }, /baseUrl is required/],
    [{ websiteId: WEBSITE, baseUrl: 'umami.example' }, /not an absolute URL/],
    [{ websiteId: WEBSITE, baseUrl: 'https://umami.example/api/send' }, /ends with \/api or \/api\/send/],
    [{ websiteId: WEBSITE, baseUrl: 'https://umami.example/api' }, /ends with \/api/],
    [{ websiteId: WEBSITE, baseUrl: 'https://umami.example', ipHeader: 'user-agent' }, /ipHeader must be/],
    [{ websiteId: WEBSITE, baseUrl: 'https://umami.example', ipHeader: 'a b' }, /ipHeader must be/],
    [{ websiteId: WEBSITE, baseUrl: 'https://umami.example', ip: 'half' }, /ip must be/],
    [{ websiteId: WEBSITE, baseUrl: 'https://umami.example', website: 'x' }, /unknown option "website"/]
  ]
  for (const [options, message] of bad) {
    t.throws(() => umamiCollector(options as UmamiCollectorOptions), { code: 'FST_ANALYTICS_INVALID_OPTION', message }, JSON.stringify(options) ?? 'undefined')
  }
  t.equal(umamiCollector({ websiteId: WEBSITE.toUpperCase(), baseUrl: 'https://cloud.umami.is' }).name, 'umami')
})

test('fastify-analytics/umami exports only the public API: the collector, its factory and the documented defaults', async (t) => {
  t.same(Object.keys(umamiPublic).sort(), [
    'DEFAULT_UMAMI_BATCH_SIZE', 'DEFAULT_UMAMI_CONCURRENCY', 'DEFAULT_UMAMI_FLUSH_INTERVAL_MS',
    'DEFAULT_UMAMI_IP_HEADER', 'DEFAULT_UMAMI_NAME', 'UmamiCollector', 'umamiCollector'
  ].sort())
  t.same([umamiPublic.DEFAULT_UMAMI_BATCH_SIZE, umamiPublic.DEFAULT_UMAMI_FLUSH_INTERVAL_MS, umamiPublic.DEFAULT_UMAMI_CONCURRENCY, umamiPublic.DEFAULT_UMAMI_IP_HEADER], [1, 1, 8, 'x-forwarded-for'])
})
