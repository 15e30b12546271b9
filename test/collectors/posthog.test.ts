// The PostHog collector against a local server that checks /batch/'s published rules and answers
// with its documented errors; and against the vendor's own SDK (`posthog-node`), run beside it (the oracle).
import { gunzipSync } from 'node:zlib'
import { inspect } from 'node:util'
import { test } from 'tap'
import Fastify from 'fastify'
import analytics from '../../lib/index.js'
import { COUNT_EVERYTHING, type TapTest } from '../helpers/collectors.js'
import { PostHog } from 'posthog-node'
import { createEvent, EventType, type AnalyticsEvent, type EventType as EventTypeValue, type Visit } from '../../lib/event.js'
import { Money } from '../../lib/money.js'
import { posthogCollector, DEFAULT_POSTHOG_HOST, type PosthogCollector, type PosthogCollectorOptions } from '../../lib/collectors/posthog.js'
import { startSink, type ReceivedRequest, type Sink, type SinkPolicy } from '../helpers/sink.js'
import { collectorHarness, type CollectorHarness } from '../helpers/collector-harness.js'
import { posthogAnswer, posthogRules } from '../servers/posthog-rules.js'

const KEY = 'phc_testProjectKey123'
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 }
const VISITOR = '0123456789abcdef0123456789abcdef'
const VISIT_ID = '0193b6a0-0000-7000-8000-000000000001'

function visit (overrides: Partial<Visit> = {}): Visit {
  return {
    id: VISIT_ID,
    startedAt: new Date(Date.now() - 60_000),
    landingPath: '/landing',
    channel: 'Organic Search',
    source: 'Google',
    medium: 'organic',
    campaign: '',
    term: '',
    content: '',
    clickId: '',
    ...overrides
  }
}

function anEvent (overrides: Partial<AnalyticsEvent> = {}, type: EventTypeValue = EventType.PageView): AnalyticsEvent {
  const event = createEvent(type, new Date(Date.now() - 1000))
  event.hostname = 'shop.example'
  event.url = 'https://shop.example/products/42?ref=mail'
  event.path = '/products/42'
  event.method = 'GET'
  event.userAgent = UA
  event.clientIP = '203.0.113.7'
  event.statusCode = 200
  event.durationMs = 12.5
  event.visitorId = VISITOR
  event.visit = visit()
  event.client = { browser: 'Chrome', browserVersion: '126.0', os: 'Linux', osVersion: '6.1', device: 'desktop', bot: false, crawler: null }
  return Object.assign(event, overrides)
}

interface Body { api_key: string, sent_at?: string, batch: Array<{ event: string, distinct_id: string, properties: Record<string, any>, timestamp: string, uuid: string }> }

function body (request: ReceivedRequest): Body {
  const raw = request.headers['content-encoding'] === 'gzip' ? gunzipSync(request.body) : request.body
  return JSON.parse(raw.toString('utf8')) as Body
}

function allEvents (sink: Sink): Body['batch'] {
  return sink.requests.flatMap((request) => body(request).batch)
}

type Harness = CollectorHarness<PosthogCollector>

async function harness (t: TapTest, options: Partial<PosthogCollectorOptions> = {}, policy?: SinkPolicy, path?: string): Promise<Harness> {
  const rules = { apiKey: KEY, path }
  return await collectorHarness(t, {
    validate: posthogRules(rules),
    policy: policy ?? posthogAnswer(rules),
    maxBodyBytes: 25 * 1000 * 1000
  }, (sink) => posthogCollector({ apiKey: KEY, host: sink.origin, retry: FAST_RETRY, flushIntervalMs: 5, ...options }),
  'every request follows PostHog\'s /batch/ rules')
}

test('the rules server refuses what PostHog refuses (so a passing test means something)', async (t) => {
  const validate = posthogRules({ apiKey: KEY })
  const good = { event: 'x', distinct_id: 'u1', properties: {}, timestamp: new Date().toISOString(), uuid: VISIT_ID }
  const request = (payload: unknown, url = '/batch/'): ReceivedRequest => ({
    method: 'POST', url, headers: { 'content-type': 'application/json' }, rawHeaders: [], body: Buffer.from(JSON.stringify(payload)), receivedAt: 0
  })
  t.same(validate(request({ api_key: KEY, batch: [good] })), [])
  t.match(validate(request({ api_key: 'phc_other', batch: [good] })), [/^401 invalid_project_api_key/])
  t.match(validate(request({ api_key: KEY, batch: [good] }, '/batch')), [/^404/])
  t.match(validate(request({ api_key: KEY, batch: [{ ...good, distinct_id: '' }] })), [/^400 invalid_payload/])
  t.match(validate(request({ api_key: KEY, batch: [{ ...good, event: undefined }] })), [/event name/])
  t.match(validate(request({ api_key: KEY, batch: [{ ...good, uuid: 'nope' }] })), [/uuid/])
  t.match(validate(request({ api_key: KEY, batch: [{ ...good, timestamp: 'yesterday' }] })), [/timestamp/])
  t.match(validate(request({ api_key: KEY, batch: [{ ...good, properties: { big: 'x'.repeat(1000 * 1000) } }] })), [/^413/])
  t.match(validate(request({ api_key: KEY, batch: [{ ...good, distinct_id: 'd'.repeat(201) }] })), [/200 bytes/])
})

test('a page view: $pageview with uuid, distinct_id, page, $ip, session, client and campaign fields; gzipped; person profiles off', async (t) => {
  const h = await harness(t)
  const event = anEvent({ referrer: 'https://www.google.com/', locale: 'en-GB', country: 'GB', properties: Object.assign(Object.create(null), { plan: 'annual' }) })
  h.collect(event)
  const report = await h.finish()
  t.equal(report.delivered, 1)
  const request = h.sink.requests[0]
  t.equal(request.url, '/batch/')
  t.equal(request.headers['content-encoding'], 'gzip')
  const sent = body(request)
  t.equal(sent.api_key, KEY)
  t.same(Object.keys(sent), ['api_key', 'batch'], 'no sent_at: a retry would move every timestamp by its wait')
  t.same(sent.batch, [{
    event: '$pageview',
    distinct_id: VISITOR,
    properties: {
      $lib: 'fastify-analytics',
      $lib_version: sent.batch[0].properties.$lib_version,
      $process_person_profile: false,
      $is_server: true,
      $ip: '203.0.113.0',
      $geoip_disable: false,
      $current_url: 'https://shop.example/products/42?ref=mail',
      $pathname: '/products/42',
      $host: 'shop.example',
      $referrer: 'https://www.google.com/',
      $referring_domain: 'www.google.com',
      $session_id: VISIT_ID,
      $device_id: VISITOR,
      $browser: 'Chrome',
      $browser_version: '126.0',
      $os: 'Linux',
      $os_version: '6.1',
      $device_type: 'desktop',
      $raw_user_agent: UA,
      $locale: 'en-GB',
      country: 'GB',
      status_code: 200,
      duration_ms: 12.5,
      utm_source: 'Google',
      utm_medium: 'organic',
      plan: 'annual'
    },
    timestamp: event.timestamp.toISOString(),
    uuid: event.id
  }])
})

test('a user id: distinct_id and person profiles on; no visitor and no user: the event id; typed values keep their type', async (t) => {
  const h = await harness(t)
  const typed = Object.assign(Object.create(null), { count: 3, member: false, label: '7', distinct_id: 'forged', $lib: 'x' }) as Record<string, string>
  h.collect(anEvent({ userId: 'user-42', eventName: 'signup', properties: typed, revenue: Money.fromMinor(2999, 'GBP') }, EventType.Custom))
  const lonely = anEvent({ userId: '', visitorId: '', visit: null, actionName: 'nightly-job' }, EventType.Action)
  h.collect(lonely)
  h.collect(anEvent({ eventName: ' ' }, EventType.Custom))
  const report = await h.finish()
  t.equal(report.dropped.invalid, 1, 'a blank name is refused')
  const [signup, job] = allEvents(h.sink).sort((a, b) => a.event.localeCompare(b.event)).reverse()
  t.same([signup.event, signup.distinct_id, signup.properties.$process_person_profile], ['signup', 'user-42', true])
  t.same([signup.properties.count, signup.properties.member, signup.properties.label], [3, false, '7'])
  t.same([signup.properties.revenue, signup.properties.currency], [29.99, 'GBP'])
  t.equal(signup.properties.$lib, 'fastify-analytics', 'the collector\'s fields win')
  t.same([job.event, job.distinct_id, job.properties.$process_person_profile, job.properties.$session_id], ['nightly-job', lonely.id, false, undefined])
})

test('the ip option: truncate (default), full, none (then $geoip_disable, so the server\'s address places no one)', async (t) => {
  for (const [ip, expected, disabled] of [[undefined, '203.0.113.0', false], ['full', '203.0.113.7', false], ['none', undefined, true]] as const) {
    const h = await harness(t, ip === undefined ? {} : { ip })
    h.collect(anEvent())
    await h.finish()
    const properties = allEvents(h.sink)[0].properties
    t.same([properties.$ip, properties.$geoip_disable], [expected, disabled], `ip: ${ip ?? 'default'}`)
  }
})

test('batching: a batch is one request; a batch over 20 MB (uncompressed) is split', async (t) => {
  const h = await harness(t, { maxBatchSize: 500, flushIntervalMs: 200 })
  for (let i = 0; i < 1200; i++) h.collect(anEvent())
  await h.finish()
  t.same(h.sink.requests.map((r) => body(r).batch.length).sort((a, b) => a - b), [200, 500, 500])
  const big = await harness(t, { maxBatchSize: 400, maxBatchBytes: 64 * 1024 * 1024, flushIntervalMs: 500 })
  const value = 'v'.repeat(1024)
  const props = Object.assign(Object.create(null), Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`p${i}`, value + String(i)]))) as Record<string, string>
  for (let i = 0; i < 400; i++) big.collect(anEvent({ properties: props }))
  await big.finish()
  const sizes = big.sink.requests.map((r) => gunzipSync(r.body).length)
  t.equal(sizes.length, 2, `one batch of ~26 MB, two requests: ${sizes.join(', ')}`)
  t.ok(sizes.every((size) => size <= 20 * 1000 * 1000))
  t.equal(big.sink.requests.reduce((n, r) => n + body(r).batch.length, 0), 400)
})

test('PostHog\'s answers: 400 and 401 refuse the whole batch, never retried; 503 and 429 retried (Retry-After honoured)', async (t) => {
  const rules = { apiKey: KEY }
  const wrongKey = await harness(t, {}, posthogAnswer({ apiKey: 'phc_other' }))
  wrongKey.collect(anEvent())
  wrongKey.collect(anEvent())
  // The rules server flags the wrong key as a violation: read the figures without finish()'s check of it.
  await wrongKey.collector.flush(AbortSignal.timeout(5000))
  await wrongKey.collector.close(AbortSignal.timeout(5000))
  const refused = wrongKey.collector.stats()
  t.same([refused.dropped.rejected, refused.delivered, refused.retries], [2, 0, 0])
  t.equal(wrongKey.sink.requests.length, 1, 'sent once')
  t.match(wrongKey.logs.text(), /invalid_project_api_key/)

  let n = 0
  const answer = posthogAnswer(rules)
  const flaky = await harness(t, { retry: { baseDelayMs: 1, maxDelayMs: 2000, maxAttempts: 4 } }, (request) => {
    n++
    if (n === 1) return { kind: 'respond', status: 503, body: 'unavailable' }
    if (n === 2) return { kind: 'respond', status: 429, headers: { 'retry-after': '1' }, body: '' }
    return answer(request)
  })
  flaky.collect(anEvent())
  const report = await flaky.finish()
  t.same([report.delivered, report.retries], [1, 2])
  const [a, b, c] = flaky.sink.requests
  t.ok(c.receivedAt - b.receivedAt >= 900, 'Retry-After waited')
  t.ok(a.body.equals(c.body), 'the same bytes every attempt')
})

test('options: checked at construction, never quoting the key; host keeps a proxy\'s path prefix', async (t) => {
  t.equal(DEFAULT_POSTHOG_HOST, 'https://us.i.posthog.com')
  const bad: Array<[unknown, RegExp]> = [
    [{}, /apiKey is required/],
    [{ apiKey: '' }, /apiKey is required/],
    [{ apiKey: 'phc_sEcReT', host: 'https://eu.i.posthog.com/batch/' }, /appends \/batch\//],
    [{ apiKey: 'phc_sEcReT', host: 'ftp://x' }, /http or https/],
    [{ apiKey: 'phc_sEcReT', apikey: 'x' }, /unknown option "apikey"/],
    [{ apiKey: 'phc_sEcReT', ip: 'yes' }, /ip must be/]
  ]
  for (const [options, message] of bad) {
    t.throws(() => posthogCollector(options as PosthogCollectorOptions), { code: 'FST_ANALYTICS_INVALID_OPTION', message })
  }
  const h = await harness(t, {}, undefined, '/ingest/batch/')
  const proxied = posthogCollector({ apiKey: KEY, host: `${h.sink.origin}/ingest`, flushIntervalMs: 5 })
  proxied.start(new AbortController().signal, { log: h.logs.log })
  proxied.collect(anEvent())
  await proxied.flush(AbortSignal.timeout(5000))
  await proxied.close(AbortSignal.timeout(5000))
  t.equal(proxied.stats().delivered, 1)
  const shown = [h.logs.text(), JSON.stringify(proxied.stats()), inspect(proxied, { depth: Infinity, showHidden: true }), JSON.stringify(proxied)].join('\n')
  t.notOk(shown.includes(KEY), 'the key never shows in logs, stats or inspect')
  await h.finish()
})

test('oracle: posthog-node\'s /batch/ body for the same event has no field the collector\'s lacks, in the same place and type', async (t) => {
  const sdkSink = await startSink({ validate: posthogRules({ apiKey: KEY }), policy: posthogAnswer({ apiKey: KEY }) })
  t.teardown(() => sdkSink.close())
  const event = anEvent({ userId: 'user-42', referrer: 'https://news.example/a', properties: Object.assign(Object.create(null), { plan: 'annual' }) })
  // What an app using the SDK beside the plugin would write for this event.
  const sdk = new PostHog(KEY, { host: sdkSink.origin, flushAt: 1, fetchRetryCount: 0 })
  sdk.capture({
    distinctId: event.userId,
    event: '$pageview',
    uuid: event.id,
    timestamp: event.timestamp,
    properties: { $current_url: event.url, $pathname: event.path, $referrer: event.referrer, $ip: event.clientIP, $session_id: event.visit?.id, ...event.properties }
  })
  await sdk.shutdown(5000)
  t.same(sdkSink.violations, [], 'the SDK\'s request passes the rules server too')
  const theirs = body(sdkSink.requests[0])

  const h = await harness(t)
  h.collect(event)
  await h.finish()
  const ours = body(h.sink.requests[0])
  // The documented difference (docs/posthog.md): no sent_at.
  t.type(theirs.sent_at, 'string', 'posthog-node sends sent_at')
  for (const [key, value] of Object.entries(theirs)) {
    if (key !== 'sent_at') t.equal(typeof (ours as any)[key], typeof value, `body.${key} is sent, a ${typeof value}`)
  }
  t.equal(sdkSink.requests[0].headers['content-encoding'], h.sink.requests[0].headers['content-encoding'], 'both gzip')
  const [their] = theirs.batch
  const [our] = ours.batch
  for (const [key, value] of Object.entries(their)) {
    if (key === 'properties') continue
    t.equal(typeof (our as any)[key], typeof value, `event.${key} is sent, a ${typeof value}`)
    t.same((our as any)[key], value, `event.${key} has the SDK's value`)
  }
  for (const [key, value] of Object.entries(their.properties)) {
    t.ok(key in our.properties, `properties.${key} is sent`)
    t.equal(typeof our.properties[key], typeof value, `properties.${key} is a ${typeof value}`)
  }
  // The documented differences (docs/posthog.md): the library names itself, `$ip` is truncated by
  // default, and GeoIP is on (the SDK turns it off: it would place visitors where the server is).
  for (const key of Object.keys(their.properties).filter((k) => !['$lib', '$lib_version', '$ip', '$geoip_disable'].includes(k))) {
    t.same(our.properties[key], their.properties[key], `properties.${key} has the SDK's value`)
  }
  t.same([their.properties.$lib, their.properties.$geoip_disable], ['posthog-node', true])
  t.same([our.properties.$lib, our.properties.$geoip_disable], ['fastify-analytics', false])
})

test('end to end through the plugin: identity, session and campaign from the real request; person profiles only with a user id', async (t) => {
  const sink = await startSink({ validate: posthogRules({ apiKey: KEY }), policy: posthogAnswer({ apiKey: KEY }) })
  const app = Fastify()
  t.teardown(async () => { await app.close(); await sink.close() })
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [posthogCollector({ apiKey: KEY, host: sink.origin, flushIntervalMs: 5 })] })
  app.get('/products/:id', async () => 'ok')
  app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
    request.analytics.setUserId('user-7')
    return 'ok'
  })
  const headers = { 'user-agent': UA, referer: 'https://www.bing.com/' }
  await app.inject({ method: 'GET', url: '/products/7', headers })
  await app.inject({ method: 'POST', url: '/checkout', headers })
  await app.close()
  t.same(sink.violations, [])
  const [view, checkout] = allEvents(sink).sort((a, b) => a.timestamp.localeCompare(b.timestamp))
  t.match(view.distinct_id, /^[0-9a-f]{32}$/, 'the cookieless visitor id')
  t.same([view.event, view.properties.$process_person_profile, view.properties.$device_id], ['$pageview', false, view.distinct_id])
  t.match(view.properties.$session_id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/, 'the visit id, a UUIDv7')
  t.equal(checkout.properties.$session_id, view.properties.$session_id, 'one visit, one session')
  t.same([view.properties.utm_source, view.properties.utm_medium], ['Bing', 'organic'])
  t.same([checkout.event, checkout.distinct_id, checkout.properties.$process_person_profile], ['checkout', 'user-7', true])
  t.equal(view.uuid.length, 36)
  const stats = app.analytics.stats().collectors.posthog
  t.same([stats.accepted, stats.delivered, stats.queued + stats.inFlight], [2, 2, 0])
})

test('properties named like Object members (__proto__, constructor, toString) are sent as data, to both JSON-typed destinations', async (t) => {
  const names = Object.assign(Object.create(null), { constructor: 'c', toString: 't', hasOwnProperty: 'h' }) as Record<string, string>
  Object.defineProperty(names, '__proto__', { value: 'p', enumerable: true, writable: true, configurable: true })
  const h = await harness(t)
  h.collect(anEvent({ properties: names }))
  await h.finish()
  const properties = allEvents(h.sink)[0].properties
  t.same(['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map((key) => String(Object.getOwnPropertyDescriptor(properties, key)?.value)), ['p', 'c', 't', 'h'])
  t.ok(Object.hasOwn(properties, '__proto__'), '__proto__ arrived as a key')
})

test('a long user id is cut to 200 UTF-8 bytes on a character boundary', async (t) => {
  const h = await harness(t)
  h.collect(anEvent({ userId: '😀'.repeat(120) }))
  h.collect(anEvent({ userId: 'u'.repeat(300) }))
  await h.finish()
  const ids = allEvents(h.sink).map((e) => e.distinct_id).sort()
  t.same(ids, ['u'.repeat(200), '😀'.repeat(50)])
})

test('an event over 1 MB (a caller that built its own event) is refused as invalid, never sent', async (t) => {
  const h = await harness(t)
  h.collect(anEvent({ properties: Object.assign(Object.create(null), { big: 'é'.repeat(600_000) }) }))
  h.collect(anEvent())
  const report = await h.finish()
  t.same([report.dropped.invalid, report.delivered], [1, 1])
  t.match(h.logs.text(), /larger than PostHog takes/)
})
