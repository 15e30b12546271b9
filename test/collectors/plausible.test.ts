import { test } from 'tap'
import type { TapTest } from '../helpers/collectors.js'
import { createEvent, EventType, type AnalyticsEvent, type EventType as EventTypeValue } from '../../lib/event.js'
import { Money } from '../../lib/money.js'
import * as plausiblePublic from '../../lib/collectors/plausible.js'
import { plausibleCollector, type PlausibleCollector, type PlausibleCollectorOptions } from '../../lib/collectors/plausible.js'
import { plausibleName, plausibleProps } from '../../lib/collectors/plausible/payload.js'
import { interpretPlausibleResponse } from '../../lib/collectors/plausible/response.js'
import { sanitizeHeaderValue, truncateUtf8 } from '../../lib/collectors/text.js'
import { defaultInterpret } from '../../lib/batch/verdict.js'
import type { Sink, SinkPolicy } from '../helpers/sink.js'
import { collectorHarness, type CollectorHarness } from '../helpers/collector-harness.js'
import { plausibleRules } from '../servers/plausible-rules.js'

const DOMAIN = 'shop.example'
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 5 }

function pageView (overrides: Partial<AnalyticsEvent> = {}, type: EventTypeValue = EventType.PageView): AnalyticsEvent {
  const event = createEvent(type, new Date('2026-11-27T10:00:00.000Z'))
  event.hostname = DOMAIN
  event.url = `https://${DOMAIN}/products/42?ref=mail`
  event.path = '/products/42'
  event.method = 'GET'
  event.userAgent = UA
  event.clientIP = '203.0.113.7'
  event.statusCode = 200
  return Object.assign(event, overrides)
}

function body (sink: Sink, index: number): Record<string, any> {
  return JSON.parse(sink.requests[index].body.toString('utf8')) as Record<string, any>
}

type Harness = CollectorHarness<PlausibleCollector>

async function harness (t: TapTest, options: Partial<PlausibleCollectorOptions> = {}, policy?: SinkPolicy, prefix = ''): Promise<Harness> {
  return await collectorHarness(t, {
    validate: plausibleRules({ domain: options.domain ?? DOMAIN, path: `${prefix}/api/event` }),
    policy: policy ?? (() => ({ kind: 'respond', status: 202, body: 'ok' }))
  }, (sink) => plausibleCollector({ domain: DOMAIN, baseUrl: prefix === '' ? sink.origin : `${sink.origin}${prefix}/`, retry: FAST_RETRY, ...options }),
  'every request follows Plausible\'s rules')
}

test('a page view maps to name "pageview" with url, domain, referrer, props and the visitor headers', async (t) => {
  const h = await harness(t)
  h.collect(pageView({ referrer: 'https://search.example/?q=shoes', properties: Object.assign(Object.create(null), { plan: 'annual', ab: 'b' }) }))
  const report = await h.finish()
  t.equal(report.delivered, 1)
  t.equal(h.sink.requests.length, 1)
  t.same(body(h.sink, 0), {
    name: 'pageview',
    url: `https://${DOMAIN}/products/42?ref=mail`,
    domain: DOMAIN,
    referrer: 'https://search.example/?q=shoes',
    props: { plan: 'annual', ab: 'b' }
  })
  const headers = h.sink.requests[0].headers
  t.equal(headers['user-agent'], UA)
  t.equal(headers['x-forwarded-for'], '203.0.113.7')
  t.match(headers['content-type'], /^application\/json/)
})

test('an action maps to its action name with interactive: false', async (t) => {
  const h = await harness(t)
  h.collect(pageView({ actionName: 'checkout', method: 'POST' }, EventType.Action))
  await h.finish()
  const sent = body(h.sink, 0)
  t.equal(sent.name, 'checkout')
  t.equal(sent.interactive, false)
})

test('a custom event maps to its event name, revenue as a decimal string with its currency', async (t) => {
  const h = await harness(t)
  h.collect(pageView({ eventName: 'checkout.completed', revenue: Money.fromMinor(2999, 'GBP') }, EventType.Custom))
  h.collect(pageView({ eventName: 'points', revenue: Money.fromMinor(500, 'JPY') }, EventType.Custom))
  await h.finish()
  const sent = h.sink.requests.map((_, i) => body(h.sink, i)).sort((a, b) => a.name.localeCompare(b.name))
  t.same(sent.map((b) => [b.name, b.revenue, b.interactive]), [
    ['checkout.completed', { currency: 'GBP', amount: '29.99' }, undefined],
    ['points', { currency: 'JPY', amount: '500' }, undefined]
  ])
})

test('the domain is always the configured one, whatever Host the request had (regression: piko took it from the Host)', async (t) => {
  const h = await harness(t)
  h.collect(pageView({ hostname: 'attacker.example', url: 'https://attacker.example:8443/x?utm_source=mail#top' }))
  await h.finish()
  const sent = body(h.sink, 0)
  t.equal(sent.domain, DOMAIN)
  t.equal(sent.url, `https://${DOMAIN}/x?utm_source=mail#top`, 'a foreign host never reaches Plausible: the configured one, with the path and query')
})

test('url: the request\'s own host is kept when it is the site or a subdomain of it, never a look-alike', async (t) => {
  const h = await harness(t, { domain: `${DOMAIN},other.example` })
  const urls = [
    `https://${DOMAIN}/a`,
    `http://WWW.${DOMAIN.toUpperCase()}:8080/b?q=1`,
    'https://blog.other.example/c',
    `https://evil${DOMAIN}/d`,
    `https://${DOMAIN}.attacker.example/e`,
    `https://${DOMAIN}@attacker.example/f`
  ]
  urls.forEach((url, i) => h.collect(pageView({ url, properties: Object.assign(Object.create(null), { i: String(i) }) })))
  await h.finish()
  const byIndex = h.sink.requests.map((_, i) => body(h.sink, i)).sort((a, b) => Number(a.props.i) - Number(b.props.i)).map((b) => b.url)
  t.same(byIndex, [
    `https://${DOMAIN}/a`,
    `http://WWW.${DOMAIN.toUpperCase()}:8080/b?q=1`,
    'https://blog.other.example/c',
    `https://${DOMAIN}/d`,
    `https://${DOMAIN}/e`,
    `https://${DOMAIN}/f`
  ])
})

test('an event without an absolute URL, or with a data: URL, is reported at https://<domain><path>; a relative URL keeps its query', async (t) => {
  const h = await harness(t)
  h.collect(pageView({ url: '', path: '/from-a-job' }, EventType.PageView))
  h.collect(pageView({ url: 'data:text/html,<script>alert(1)</script>', path: '/x' }))
  h.collect(pageView({ url: '/relative', path: '' }))
  h.collect(pageView({ url: '/products?page=2&utm_source=mail', path: '' }))
  await h.finish()
  const urls = h.sink.requests.map((_, i) => body(h.sink, i).url as string).sort()
  t.same(urls, [
    `https://${DOMAIN}/from-a-job`,
    `https://${DOMAIN}/products?page=2&utm_source=mail`,
    `https://${DOMAIN}/relative`,
    `https://${DOMAIN}/x`
  ])
})

test('names: whitespace-only names and the names Plausible reserves are refused (counted invalid), a page view is "pageview"', async (t) => {
  const h = await harness(t)
  for (const eventName of [' ', '\u0085\u3000', 'pageview', 'pageleave', 'engagement', 'signup']) h.collect(pageView({ eventName }, EventType.Custom))
  h.collect(pageView({ actionName: 'pageleave' }, EventType.Action))
  h.collect(pageView())
  await h.finish()
  const names = h.sink.requests.map((_, i) => body(h.sink, i).name as string).sort()
  t.same(names, ['pageview', 'signup'])
  const stats = h.collector.stats()
  t.equal(stats.dropped.invalid, 6)
})

test('35 props: the first 30 in insertion order are sent (regression: piko picked 30 at random)', async (t) => {
  const h = await harness(t)
  const properties = Object.create(null) as Record<string, string>
  for (let i = 0; i < 35; i++) properties[`p${i}`] = `v${i}`
  h.collect(pageView({ properties }))
  await h.finish()
  const props = body(h.sink, 0).props as Record<string, string>
  t.same(Object.keys(props), Array.from({ length: 30 }, (_, i) => `p${i}`))
})

test('blank prop values are dropped before the 30 are counted', async (t) => {
  const props = plausibleProps(Object.assign(Object.create(null), { a: '', b: '  ', c: 'x', ' ': 'y', d: '\u00a0ok' }))
  t.same(props, { c: 'x', d: '\u00a0ok' })
  // Blank as Elixir's String.trim_leading sees it (Unicode White_Space), not as JavaScript's trimStart.
  const unicode = plausibleProps(Object.assign(Object.create(null), { nel: '\u0085', ideographic: '\u3000\u2028', bom: '\ufeff', zwsp: '\u200b' }))
  t.same(unicode, { bom: '\ufeff', zwsp: '\u200b' })
  t.equal(plausibleProps(Object.assign(Object.create(null), { a: ' ' })), undefined, 'no props field when none is left')
})

test('prop keys are cut to 300 bytes and values to 2000 bytes of UTF-8, on code-point boundaries', async (t) => {
  const h = await harness(t)
  const key300 = 'é'.repeat(150) // 2-byte characters: exactly 300 bytes
  const key301 = `k${'€'.repeat(100)}` // 1 + 300 bytes: the last € must go whole
  const value2000 = `${'😀'.repeat(499)}abcd` // 4-byte characters: exactly 2000 bytes
  const value2001 = `a${'😀'.repeat(500)}` // 2001 bytes: the last emoji must go whole, not half a surrogate pair
  h.collect(pageView({ properties: Object.assign(Object.create(null), { [key300]: 'a', [key301]: 'b', v1: value2000, v2: value2001 }) }))
  await h.finish()
  const props = body(h.sink, 0).props as Record<string, string>
  t.equal(props[key300], 'a', 'a 300-byte key is kept whole')
  t.equal(props[`k${'€'.repeat(99)}`], 'b', 'a 301-byte key is cut to 298 bytes (the next € would make 301)')
  t.equal(props.v1, value2000, 'a 2000-byte value is kept whole')
  t.equal(props.v2, `a${'😀'.repeat(499)}`, 'a 2001-byte value is cut to 1997 bytes')
  for (const [key, value] of Object.entries(props)) {
    t.notOk(key.includes('\ufffd') || value.includes('\ufffd'), 'no replacement character: no code point was split')
  }
})

test('truncateUtf8 counts bytes as Node encodes them', async (t) => {
  for (const text of ['', 'abc', 'é€😀', '😀'.repeat(10), 'a\ud800b', '\udc00x'.repeat(5)]) {
    for (let max = 0; max <= 45; max++) {
      const cut = truncateUtf8(text, max)
      t.ok(text.startsWith(cut), 'a prefix')
      t.ok(Buffer.byteLength(cut) <= max, `${JSON.stringify(text)} fits ${max} bytes`)
      const next = text.slice(cut.length, cut.length + ((text.codePointAt(cut.length) ?? 0) > 0xffff ? 2 : 1))
      if (cut.length < text.length) t.ok(Buffer.byteLength(cut + next) > max, 'as long as possible')
    }
  }
})

test('url: 2000 bytes are kept, 2001 are cut to fit (Plausible answers 400 above 2000)', async (t) => {
  const h = await harness(t)
  const base = `https://${DOMAIN}/`
  const url2000 = base + 'a'.repeat(2000 - base.length)
  const url2001 = base + 'é'.repeat(Math.ceil((2001 - base.length) / 2)) // multi-byte, ends beyond 2000
  const urlEscape = base + 'a'.repeat(2000 - base.length - 2) + '%C3%A9' // a cut would leave "%C"
  h.collect(pageView({ url: url2000, properties: Object.assign(Object.create(null), { n: '1' }) }))
  h.collect(pageView({ url: url2001, properties: Object.assign(Object.create(null), { n: '2' }) }))
  h.collect(pageView({ url: urlEscape, properties: Object.assign(Object.create(null), { n: '3' }) }))
  await h.finish()
  const byN = new Map(h.sink.requests.map((_, i) => [body(h.sink, i).props.n as string, body(h.sink, i).url as string]))
  t.equal(byN.get('1'), url2000)
  t.ok(Buffer.byteLength(url2001) > 2000)
  t.ok(Buffer.byteLength(byN.get('2')!) <= 2000 && Buffer.byteLength(byN.get('2')!) >= 1999)
  t.ok(url2001.startsWith(byN.get('2')!))
  t.equal(byN.get('3'), urlEscape.slice(0, urlEscape.length - 6), 'no half percent-escape left at the end')
})

test('name: 120 characters are kept, 121 are cut to 120', async (t) => {
  const h = await harness(t)
  const name120 = 'é'.repeat(119) + '😀'
  h.collect(pageView({ eventName: name120 }, EventType.Custom))
  h.collect(pageView({ eventName: `x${name120}` }, EventType.Custom))
  await h.finish()
  const names = h.sink.requests.map((_, i) => body(h.sink, i).name as string).sort()
  t.same(names, [`x${name120.slice(0, -2)}`, name120].sort())
})

test('X-Forwarded-For carries the client IP only when it is a valid IP', async (t) => {
  const h = await harness(t)
  const ips = ['198.51.100.4', '2001:db8::1', 'unknown', '198.51.100.4, 10.0.0.1', '', '999.1.1.1', '1.2.3.4\r\nX-Evil: 1', 'fe80::1%eth0', '::ffff:192.0.2.1']
  ips.forEach((clientIP, i) => h.collect(pageView({ clientIP, properties: Object.assign(Object.create(null), { i: String(i) }) })))
  await h.finish()
  const byIndex = new Map(h.sink.requests.map((request, i) => [Number(body(h.sink, i).props.i), request.headers['x-forwarded-for']]))
  t.same([...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, xff]) => xff), ['198.51.100.4', '2001:db8::1', undefined, undefined, undefined, undefined, undefined, undefined, '::ffff:192.0.2.1'])
})

test('a user agent with CR/LF cannot inject a header', async (t) => {
  const h = await harness(t)
  h.collect(pageView({ userAgent: 'Mozilla/5.0\r\nX-Evil: 1\r\n\u0000\u00e9' }))
  await h.finish()
  const request = h.sink.requests[0]
  t.equal(request.headers['x-evil'], undefined, 'no X-Evil header arrived')
  t.equal(request.headers['user-agent'], 'Mozilla/5.0X-Evil: 1\u00e9', 'control characters stripped; Latin-1 kept')
  t.equal(sanitizeHeaderValue(' a\tb😀 '), 'ab', 'tabs and characters above U+00FF go too')
})

test('an event without a user agent is dropped as invalid, not sent', async (t) => {
  const h = await harness(t)
  h.collect(pageView({ userAgent: '' }))
  h.collect(pageView({ userAgent: '\r\n' }))
  h.collect(pageView({ eventName: '' }, EventType.Custom))
  const report = await h.finish()
  t.equal(h.sink.requests.length, 0)
  t.equal(report.dropped.invalid, 3)
  t.match(h.logs.text(), /User-Agent/)
})

test('202 with x-plausible-dropped counts the event as dropped by the destination', async (t) => {
  const h = await harness(t, {}, () => ({ kind: 'respond', status: 202, headers: { 'x-plausible-dropped': '1' }, body: 'ok' }))
  h.collect(pageView())
  const report = await h.finish()
  t.equal(report.delivered, 0)
  t.equal(report.dropped.destination, 1)
  const verdict = interpretPlausibleResponse({ statusCode: 202, headers: { 'x-plausible-dropped': '1' }, body: 'ok' }, { path: '/api/event', headers: {}, body: '', events: 1 }, defaultInterpret)
  t.match(verdict, { outcome: 'delivered', destinationDropped: 1, detail: /x-plausible-dropped: 1/ })
})

test('400 rejects the event and logs Plausible\'s errors', async (t) => {
  const errors = { errors: { props: ['keys should have at most 300 bytes and values 2000 bytes'] } }
  const h = await harness(t, {}, () => ({ kind: 'respond', status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify(errors) }))
  h.collect(pageView())
  const report = await h.finish()
  t.equal(report.dropped.rejected, 1)
  t.equal(h.sink.requests.length, 1, 'not retried')
  t.match(h.logs.text(), /keys should have at most 300 bytes/, 'the errors are in the log')
})

test('503, 503, then 202: delivered once, every attempt byte for byte the same', async (t) => {
  const h = await harness(t, {}, (_request, index) => index < 2
    ? { kind: 'respond', status: 503 }
    : { kind: 'respond', status: 202, body: 'ok' })
  h.collect(pageView({ properties: Object.assign(Object.create(null), { plan: 'annual' }), revenue: Money.fromDecimal('10.00', 'EUR') }))
  const report = await h.finish()
  t.equal(report.delivered, 1)
  t.equal(report.retries, 2)
  t.equal(h.sink.requests.length, 3)
  const first = h.sink.requests[0]
  for (const request of h.sink.requests.slice(1)) {
    t.ok(request.body.equals(first.body), 'same body bytes (regression: piko lost props on retry)')
    t.equal(request.headers['user-agent'], first.headers['user-agent'])
    t.equal(request.headers['x-forwarded-for'], first.headers['x-forwarded-for'])
  }
  t.same(body(h.sink, 2).props, { plan: 'annual' })
})

test('a self-hosted baseUrl with a path prefix and a trailing slash', async (t) => {
  const h = await harness(t, {}, undefined, '/plausible')
  h.collect(pageView())
  await h.finish()
  t.same(h.sink.requests.map((request) => request.url), ['/plausible/api/event'])
})

test('events are sent one per request, promptly, without waiting for a flush', async (t) => {
  const h = await harness(t)
  for (let i = 0; i < 20; i++) h.collect(pageView({ properties: Object.assign(Object.create(null), { i: String(i) }) }))
  await h.sink.waitForRequests(20, 2000)
  await h.finish()
  t.equal(h.sink.requests.length, 20)
  t.same(h.sink.requests.map((_, i) => Number(body(h.sink, i).props.i)).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i))
})

test('bad options are refused at construction', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /options must be an object/],
    [{}, /domain is required/],
    [{ domain: '  ' }, /domain is required/],
    [{ domain: 'https://shop.example' }, /not a site name/],
    [{ domain: 'shop.example/path' }, /not a site name/],
    [{ domain: 'a.example,' }, /not a site name/],
    [{ domain: DOMAIN, baseUrl: 'plausible.io' }, /not an absolute URL/],
    [{ domain: DOMAIN, baseUrl: 'ftp://plausible.io' }, /http or https/],
    [{ domain: DOMAIN, baseUrl: 'https://u:p@plausible.io' }, /credentials/],
    [{ domain: DOMAIN, baseUrl: 'https://plausible.io/?x=1' }, /query or fragment/],
    [{ domain: DOMAIN, baseUrl: 42 }, /baseUrl must be a string/],
    // Issue 26: accepted, then every event went to /api/event/api/event and 404ed.
    [{ domain: DOMAIN, baseUrl: 'http://host/api/event' }, /baseUrl ends with \/api\/event: give the instance's origin .*without it.*appends \/api\/event/],
    [{ domain: DOMAIN, baseUrl: 'https://stats.example/plausible/api/event/' }, /baseUrl ends with \/api\/event/],
    [{ domain: DOMAIN, name: '' }, /name must be/],
    [{ domain: DOMAIN, domian: 'x' }, /unknown option "domian"/]
  ]
  for (const [options, message] of bad) {
    t.throws(() => plausibleCollector(options as PlausibleCollectorOptions), { code: 'FST_ANALYTICS_INVALID_OPTION', message }, JSON.stringify(options) ?? 'undefined')
  }
  t.throws(() => plausibleCollector({ domain: DOMAIN, concurrency: 0 }), { code: 'FST_ANALYTICS_INVALID_OPTION' }, 'batching options are checked too')
  t.equal(plausibleCollector({ domain: 'a.example, b.example' }).name, 'plausible')
  t.equal(plausibleCollector({ domain: DOMAIN, name: 'plausible-eu' }).name, 'plausible-eu')
})

test('interpretPlausibleResponse: 2xx, dropped, 400 with and without JSON errors, and the rest by default', async (t) => {
  const request = { path: '/api/event', headers: {}, body: '{}', events: 1 }
  const read = (statusCode: number, body = '', headers: Record<string, string | string[]> = {}): unknown =>
    interpretPlausibleResponse({ statusCode, headers, body }, request, defaultInterpret)
  t.same(read(202, 'ok'), { outcome: 'delivered' })
  t.same(read(200, '{}'), { outcome: 'delivered' }, 'the documented {} body')
  t.match(read(202, 'ok', { 'x-plausible-dropped': ['1', '1'] }), { destinationDropped: 1, detail: /x-plausible-dropped: 1, 1/ })
  t.match(read(400, '{"errors":{"url":["is required"]}}'), { outcome: 'rejected', detail: /\{"url":\["is required"\]\}/ })
  t.match(read(400, 'Bad Request'), { outcome: 'rejected', detail: /"Bad Request"/ }, 'a body that is not JSON is quoted')
  t.match(read(400, '{"message":"x"}'), { outcome: 'rejected', detail: /"\{\\"message\\":\\"x\\"\}"/ }, 'JSON without errors is quoted whole')
  t.match(read(503, '', { 'retry-after': '2' }), { outcome: 'retry', retryAfterMs: 2000 })
  t.match(read(429), { outcome: 'retry' })
  t.match(read(404, 'not found'), { outcome: 'rejected' })
})

test('names and keys at the edges: an action without an action name, two long keys that cut to the same 300 bytes', async (t) => {
  t.equal(plausibleName(pageView({ actionName: '', eventName: 'signup' }, EventType.Action)), 'signup')
  t.equal(plausibleName(pageView({ actionName: '', eventName: '' }, EventType.Action)), '')
  const long = 'k'.repeat(300)
  t.same(plausibleProps(Object.assign(Object.create(null), { [`${long}a`]: 'first', [`${long}b`]: 'second' })), { [long]: 'first' })
})

test('fastify-analytics/plausible exports only the public API: the collector, its factory and the documented defaults', async (t) => {
  t.same(Object.keys(plausiblePublic).sort(), [
    'DEFAULT_PLAUSIBLE_BASE_URL', 'DEFAULT_PLAUSIBLE_BATCH_SIZE', 'DEFAULT_PLAUSIBLE_CONCURRENCY',
    'DEFAULT_PLAUSIBLE_FLUSH_INTERVAL_MS', 'DEFAULT_PLAUSIBLE_NAME', 'PlausibleCollector', 'plausibleCollector'
  ].sort())
  t.same({
    baseUrl: plausiblePublic.DEFAULT_PLAUSIBLE_BASE_URL,
    name: plausiblePublic.DEFAULT_PLAUSIBLE_NAME,
    maxBatchSize: plausiblePublic.DEFAULT_PLAUSIBLE_BATCH_SIZE,
    flushIntervalMs: plausiblePublic.DEFAULT_PLAUSIBLE_FLUSH_INTERVAL_MS,
    concurrency: plausiblePublic.DEFAULT_PLAUSIBLE_CONCURRENCY
  }, { baseUrl: 'https://plausible.io', name: 'plausible', maxBatchSize: 1, flushIntervalMs: 1, concurrency: 8 })
})
