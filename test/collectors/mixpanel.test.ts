// The Mixpanel collector against a local server that checks /import's published rules and answers
// as strict mode does; and against the vendor's own SDK (`mixpanel`), run beside it (the oracle).
import { gunzipSync } from 'node:zlib'
import { inspect } from 'node:util'
import { test } from 'tap'
import Fastify from 'fastify'
import analytics from '../../lib/index.js'
import { COUNT_EVERYTHING, type TapTest } from '../helpers/collectors.js'
import Mixpanel from 'mixpanel'
import { createEvent, EventType, type AnalyticsEvent, type EventType as EventTypeValue, type Visit } from '../../lib/event.js'
import { Money } from '../../lib/money.js'
import { defaultInterpret } from '../../lib/batch/verdict.js'
import { mixpanelCollector, MIXPANEL_ORIGINS, type MixpanelCollector, type MixpanelCollectorOptions } from '../../lib/collectors/mixpanel.js'
import { mixpanelInsertId } from '../../lib/collectors/mixpanel/payload.js'
import { interpretMixpanelResponse } from '../../lib/collectors/mixpanel/response.js'
import { startSink, type ReceivedRequest, type Sink, type SinkPolicy } from '../helpers/sink.js'
import { collectorHarness, type CollectorHarness } from '../helpers/collector-harness.js'
import { mixpanelAnswer, mixpanelRules } from '../servers/mixpanel-rules.js'

const TOKEN = 'mpTestToken123'
const TOKEN_AUTH = `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 }
const VISITOR = '0123456789abcdef0123456789abcdef'
// The SDK warns (on stderr) that api_key auth is deprecated: the oracle uses it only to reach a plain-HTTP server.
const QUIET = { trace () {}, debug () {}, info () {}, warn () {}, error () {} }

function visit (overrides: Partial<Visit> = {}): Visit {
  return {
    id: '0193b6a0-0000-7000-8000-000000000001',
    startedAt: new Date(Date.now() - 60_000),
    landingPath: '/landing',
    channel: 'Paid Search',
    source: 'google',
    medium: 'cpc',
    campaign: 'spring',
    term: 'shoes',
    content: '',
    clickId: 'google',
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
  event.client = { browser: 'Chrome', browserVersion: '126.0', os: 'Linux', osVersion: '', device: 'desktop', bot: false, crawler: null }
  return Object.assign(event, overrides)
}

function events (request: ReceivedRequest): Array<{ event: string, properties: Record<string, any> }> {
  return JSON.parse(gunzipSync(request.body).toString('utf8'))
}

function allEvents (sink: Sink): Array<{ event: string, properties: Record<string, any> }> {
  return sink.requests.flatMap(events)
}

type Harness = CollectorHarness<MixpanelCollector>

async function harness (t: TapTest, options: Partial<MixpanelCollectorOptions> = {}, policy?: SinkPolicy, authorization = TOKEN_AUTH, path?: string): Promise<Harness> {
  const rules = { token: TOKEN, authorization, path }
  return await collectorHarness(t, {
    validate: mixpanelRules(rules),
    policy: policy ?? mixpanelAnswer(rules),
    maxBodyBytes: 8 * 1024 * 1024
  }, (sink) => mixpanelCollector({ projectToken: TOKEN, endpoint: sink.origin, retry: FAST_RETRY, flushIntervalMs: 5, ...options }),
  'every request follows Mixpanel\'s /import rules')
}

test('the rules server refuses what Mixpanel refuses (so a passing test means something)', async (t) => {
  const validate = mixpanelRules({ token: TOKEN, authorization: TOKEN_AUTH })
  const good = { event: 'x', properties: { time: Date.now(), distinct_id: 'u1', $insert_id: 'abc-123', token: TOKEN } }
  const request = (body: unknown, headers: Record<string, string> = {}, url = '/import?strict=1'): ReceivedRequest => ({
    method: 'POST', url, headers: { 'content-type': 'application/json', authorization: TOKEN_AUTH, ...headers }, rawHeaders: [], body: Buffer.from(JSON.stringify(body)), receivedAt: 0
  })
  t.same(validate(request([good])), [])
  t.match(validate(request([good], { authorization: 'Basic eDo=' })), [/^401/])
  t.match(validate(request([good], {}, '/import')), [/^404/])
  t.match(validate(request(Array.from({ length: 2001 }, () => good))), [/more than 2000/])
  t.match(validate(request([{ ...good, properties: { ...good.properties, $insert_id: 'has space' } }])), [/insert_id/])
  t.match(validate(request([{ ...good, properties: { ...good.properties, distinct_id: 'anonymous' } }])), [/placeholder/])
  t.match(validate(request([{ ...good, properties: { ...good.properties, time: Date.UTC(1970, 5, 1) } }])), [/time/])
  t.match(validate(request([{ ...good, properties: { ...good.properties, time: Date.now() + 2 * 3600_000 } }])), [/time/])
  t.match(validate(request([{ ...good, properties: { ...good.properties, ip: 'not-an-ip' } }])), [/ip/])
  t.match(validate(request([{ ...good, properties: { ...good.properties, big: 'x'.repeat(1024 * 1024) } }])), [/1MB/])
})

test('a page view: $mp_web_page_view with identity, $insert_id, ip, page, client and campaign fields, gzipped, with the token as Basic user', async (t) => {
  const h = await harness(t)
  const event = anEvent({ referrer: 'https://www.google.com/search?q=shoes', country: 'GB', locale: 'en-GB', properties: Object.assign(Object.create(null), { plan: 'annual' }) })
  h.collect(event)
  const report = await h.finish()
  t.equal(report.delivered, 1)
  const request = h.sink.requests[0]
  t.equal(request.url, '/import?strict=1')
  t.equal(request.headers['content-encoding'], 'gzip')
  t.equal(request.headers.authorization, TOKEN_AUTH)
  const [sent] = events(request)
  t.equal(sent.event, '$mp_web_page_view')
  t.same(sent.properties, {
    time: event.timestamp.getTime(),
    distinct_id: VISITOR,
    $insert_id: event.id,
    token: TOKEN,
    mp_lib: 'fastify-analytics',
    $lib_version: sent.properties.$lib_version,
    $device_id: VISITOR,
    ip: '203.0.113.7',
    mp_country_code: 'GB',
    $current_url: 'https://shop.example/products/42?ref=mail',
    $pathname: '/products/42',
    $host: 'shop.example',
    $referrer: 'https://www.google.com/search?q=shoes',
    $referring_domain: 'www.google.com',
    $browser: 'Chrome',
    $browser_version: '126.0',
    $os: 'Linux',
    $device: 'desktop',
    locale: 'en-GB',
    status_code: 200,
    duration_ms: 12.5,
    utm_source: 'google',
    utm_medium: 'cpc',
    utm_campaign: 'spring',
    utm_term: 'shoes',
    plan: 'annual'
  })
  t.match(sent.properties.$lib_version, /^\d+\.\d+\.\d+/, 'the plugin\'s version, read from its package.json')
})

test('names, revenue, typed property values; the collector\'s own fields win over clashing properties', async (t) => {
  const h = await harness(t)
  // Typed values (issue 25 item 7) arrive as numbers and booleans; today's string values stay strings.
  const typed = Object.assign(Object.create(null), { count: 3, ratio: 0.5, member: true, label: '7', distinct_id: 'forged', time: 'x' }) as Record<string, string>
  h.collect(anEvent({ actionName: 'checkout', properties: typed, revenue: Money.fromMinor(2999, 'GBP') }, EventType.Action))
  h.collect(anEvent({ eventName: 'points', revenue: Money.fromMinor(500, 'JPY') }, EventType.Custom))
  h.collect(anEvent({ actionName: '', eventName: 'fallback' }, EventType.Action))
  await h.finish()
  const sent = allEvents(h.sink).sort((a, b) => a.event.localeCompare(b.event))
  t.same(sent.map((e) => e.event), ['checkout', 'fallback', 'points'])
  const checkout = sent[0].properties
  t.same([checkout.count, checkout.ratio, checkout.member, checkout.label], [3, 0.5, true, '7'], 'each value in its own JSON type')
  t.same([checkout.revenue, checkout.currency], [29.99, 'GBP'])
  t.same([sent[2].properties.revenue, sent[2].properties.currency], [500, 'JPY'])
  t.equal(checkout.distinct_id, VISITOR, 'a property cannot re-identify the event')
  t.type(checkout.time, 'number')
})

test('identity: distinct_id is the user id, else the visitor id, else ""; placeholder user ids fall back; long ones are cut to 255', async (t) => {
  const h = await harness(t)
  h.collect(anEvent({ userId: 'user-42', properties: Object.assign(Object.create(null), { i: '0' }) }))
  h.collect(anEvent({ userId: 'null', properties: Object.assign(Object.create(null), { i: '1' }) }))
  h.collect(anEvent({ userId: '', visitorId: '', visit: null, properties: Object.assign(Object.create(null), { i: '2' }) }))
  h.collect(anEvent({ userId: 'u'.repeat(400), properties: Object.assign(Object.create(null), { i: '3' }) }))
  await h.finish()
  const sent = allEvents(h.sink).sort((a, b) => Number(a.properties.i) - Number(b.properties.i)).map((e) => e.properties)
  t.same([sent[0].distinct_id, sent[0].$user_id, sent[0].$device_id], ['user-42', 'user-42', VISITOR])
  t.same([sent[1].distinct_id, sent[1].$user_id], [VISITOR, undefined], '"null" is a placeholder Mixpanel refuses')
  t.same([sent[2].distinct_id, sent[2].$device_id, sent[2].utm_source], ['', undefined, undefined], 'no user, no visitor: accepted, outside user analyses')
  t.equal(sent[3].distinct_id.length, 255)
})

test('$insert_id: the event id when it fits Mixpanel\'s rule, else 36 hex digits of its hash; stable across calls', async (t) => {
  t.equal(mixpanelInsertId('0193b6a0-0000-7000-8000-000000000001'), '0193b6a0-0000-7000-8000-000000000001')
  const hashed = mixpanelInsertId('job:2026-12-08/run 7')
  t.match(hashed, /^[0-9a-f]{36}$/)
  t.equal(mixpanelInsertId('job:2026-12-08/run 7'), hashed)
  t.not(mixpanelInsertId('job:2026-12-08/run 8'), hashed)
  t.match(mixpanelInsertId('x'.repeat(37)), /^[0-9a-f]{36}$/)
})

test('the ip option: full (default), truncate, none; an anonymous visitor\'s IP is truncated whatever it says', async (t) => {
  for (const [ip, expected] of [[undefined, '203.0.113.7'], ['truncate', '203.0.113.0'], ['none', undefined]] as const) {
    const h = await harness(t, ip === undefined ? {} : { ip })
    h.collect(anEvent())
    await h.finish()
    t.equal(allEvents(h.sink)[0].properties.ip, expected, `ip: ${ip ?? 'default'}`)
  }
  const h = await harness(t)
  h.collect(anEvent({ consent: 'anonymous' }))
  await h.finish()
  t.equal(allEvents(h.sink)[0].properties.ip, '203.0.113.0')
})

test('time: before 1971 refused (counted invalid), an hour ahead clamped to now', async (t) => {
  const h = await harness(t)
  h.collect(anEvent({ timestamp: new Date(Date.UTC(1970, 5, 1)) }))
  h.collect(anEvent({ timestamp: new Date('invalid') }))
  h.collect(anEvent({ timestamp: new Date(Date.now() + 2 * 3600_000) }))
  h.collect(anEvent({ eventName: '  ' }, EventType.Custom))
  const report = await h.finish()
  t.equal(report.dropped.invalid, 3)
  t.equal(report.delivered, 1)
  t.ok(allEvents(h.sink)[0].properties.time <= Date.now())
})

test('batching: 2000 events a request at most, 2 MB uncompressed at most', async (t) => {
  const h = await harness(t, { maxBatchSize: 4500, flushIntervalMs: 200 })
  for (let i = 0; i < 4500; i++) h.collect(anEvent())
  await h.finish()
  t.same(h.sink.requests.map((r) => events(r).length).sort((a, b) => a - b), [500, 2000, 2000])
  const big = await harness(t, { flushIntervalMs: 200 })
  const value = 'v'.repeat(1000)
  const props = Object.assign(Object.create(null), Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${i}`, value]))) as Record<string, string>
  for (let i = 0; i < 300; i++) big.collect(anEvent({ properties: props }))
  await big.finish()
  const sizes = big.sink.requests.map((r) => gunzipSync(r.body).length)
  t.ok(sizes.length >= 3 && sizes.every((size) => size <= 2 * 1024 * 1024), `split by bytes: ${sizes.join(', ')}`)
  t.equal(big.sink.requests.reduce((n, r) => n + events(r).length, 0), 300)
})

test('strict mode: failed_records are counted rejected one by one, the rest delivered, and the 400 is not retried', async (t) => {
  const rules = { token: TOKEN, authorization: TOKEN_AUTH }
  const h = await harness(t, { flushIntervalMs: 50 }, mixpanelAnswer(rules, (event) => event.properties.bad === 'yes'))
  for (let i = 0; i < 10; i++) h.collect(anEvent({ properties: Object.assign(Object.create(null), { bad: i % 4 === 0 ? 'yes' : 'no' }) }))
  const report = await h.finish()
  t.equal(h.sink.requests.length, 1)
  t.equal(report.dropped.rejected, 3)
  t.equal(report.delivered, 7)
  t.equal(report.retries, 0)
  t.match(h.logs.text(), /Mixpanel refused 3 of 10 events/)
})

test('a 400 cut at 64 KiB still counts by num_records_imported; a 400 without either is a whole refusal', async (t) => {
  const request = { path: '/import', headers: {}, body: '', events: 2000 }
  const cut = '{"code":400,"error":"some data points in the request failed validation","status":"Bad Request","num_records_imported":1500,"failed_records":[{"index":0,' + 'x'.repeat(100)
  t.same(interpretMixpanelResponse({ statusCode: 400, headers: {}, body: cut }, request, defaultInterpret), { outcome: 'delivered', rejected: 500, detail: 'Mixpanel imported 1500 of 2000 events (400, strict)' })
  t.equal(interpretMixpanelResponse({ statusCode: 400, headers: {}, body: '{"error":"bad"}' }, request, defaultInterpret).outcome, 'rejected')
  t.equal(interpretMixpanelResponse({ statusCode: 429, headers: { 'retry-after': '2' }, body: '' }, request, defaultInterpret).outcome, 'retry')
  t.equal(interpretMixpanelResponse({ statusCode: 503, headers: {}, body: '' }, request, defaultInterpret).outcome, 'retry')
  t.equal(interpretMixpanelResponse({ statusCode: 401, headers: {}, body: '' }, request, defaultInterpret).outcome, 'rejected')
})

test('a 429 with Retry-After is retried after it, with the same bytes', async (t) => {
  let first = true
  const rules = { token: TOKEN, authorization: TOKEN_AUTH }
  const answer = mixpanelAnswer(rules)
  const h = await harness(t, { retry: { baseDelayMs: 1, maxDelayMs: 2000, maxAttempts: 3 } }, (request) => {
    if (!first) return answer(request)
    first = false
    return { kind: 'respond', status: 429, headers: { 'retry-after': '1' }, body: '{"code":429,"error":"Project exceeded rate limits. Please retry the request with exponential backoff.","status":"Too Many Requests"}' }
  })
  h.collect(anEvent())
  const report = await h.finish()
  t.equal(report.delivered, 1)
  t.equal(report.retries, 1)
  const [a, b] = h.sink.requests
  t.ok(b.receivedAt - a.receivedAt >= 900, `waited ${b.receivedAt - a.receivedAt} ms`)
  t.ok(a.body.equals(b.body), 'the same bytes')
})

test('auth: a service account (Basic user:secret, project_id) or the API secret; secrets never in errors, logs, inspect or stats', async (t) => {
  const account = { username: 'sa.user', secret: 'saSecretValue987', projectId: 4242 }
  const auth = `Basic ${Buffer.from('sa.user:saSecretValue987').toString('base64')}`
  const h = await harness(t, { serviceAccount: account }, undefined, auth, '/import?strict=1&project_id=4242')
  h.collect(anEvent())
  await h.finish()
  t.equal(h.sink.requests.length, 1)
  const shown = [h.logs.text(), JSON.stringify(h.collector.stats()), inspect(h.collector, { depth: Infinity, showHidden: true }), JSON.stringify(h.collector)].join('\n')
  t.notOk(shown.includes('saSecretValue987'))
  t.notOk(shown.includes(auth.slice(6)))
  const secretAuth = `Basic ${Buffer.from('apiSecret555:').toString('base64')}`
  const s = await harness(t, { apiSecret: 'apiSecret555' }, undefined, secretAuth)
  s.collect(anEvent())
  t.equal((await s.finish()).delivered, 1)

  const bad: Array<[unknown, RegExp]> = [
    [{}, /projectToken is required/],
    [{ projectToken: ' ' }, /projectToken is required/],
    [{ projectToken: 't', apiSecret: 'sEcReT1', serviceAccount: account }, /not both/],
    [{ projectToken: 't', serviceAccount: { ...account, projectId: 'abc' } }, /projectId/],
    [{ projectToken: 't', serviceAccount: { ...account, secret: '' } }, /serviceAccount.secret/],
    [{ projectToken: 't', region: 'mars' }, /region/],
    [{ projectToken: 't', endpoint: 'https://proxy.example/import' }, /appends \/import/],
    [{ projectToken: 't', projectTokn: 'x' }, /unknown option "projectTokn"/],
    [{ projectToken: 't', ip: 'partial' }, /ip must be/]
  ]
  for (const [options, message] of bad) {
    t.throws(() => mixpanelCollector(options as MixpanelCollectorOptions), { code: 'FST_ANALYTICS_INVALID_OPTION', message })
    try { mixpanelCollector(options as MixpanelCollectorOptions) } catch (error) { t.notOk(String((error as Error).message).includes('sEcReT1')) }
  }
})

test('regions: us, eu and in origins; endpoint keeps a proxy\'s path prefix', async (t) => {
  t.same(MIXPANEL_ORIGINS, { us: 'https://api.mixpanel.com', eu: 'https://api-eu.mixpanel.com', in: 'https://api-in.mixpanel.com' })
  const h = await harness(t, {}, undefined, TOKEN_AUTH, '/mp/import?strict=1')
  const prefixed = mixpanelCollector({ projectToken: TOKEN, endpoint: `${h.sink.origin}/mp/`, flushIntervalMs: 5 })
  prefixed.start(new AbortController().signal, { log: h.logs.log })
  prefixed.collect(anEvent())
  await prefixed.flush(AbortSignal.timeout(5000))
  await prefixed.close(AbortSignal.timeout(5000))
  t.equal(prefixed.stats().delivered, 1)
  await h.finish()
})

test('oracle: the mixpanel SDK\'s /import event for the same event has no field the collector\'s lacks, in the same place and type', async (t) => {
  // The SDK reads a body of "1" as success.
  const sdkSink = await startSink({ policy: () => ({ kind: 'respond', status: 200, body: '1' }) })
  t.teardown(() => sdkSink.close())
  const event = anEvent({ userId: 'user-42', referrer: 'https://news.example/a', properties: Object.assign(Object.create(null), { plan: 'annual', seats: '3' }) })
  // What an app using the SDK beside the plugin would write for this event.
  const sdk = Mixpanel.init(TOKEN, { host: '127.0.0.1', port: sdkSink.port, protocol: 'http', key: 'sdk-api-key', keepAlive: false, logger: QUIET } as unknown as Mixpanel.InitConfig)
  await new Promise<void>((resolve, reject) => {
    sdk.import(event.actionName !== '' ? event.actionName : '$mp_web_page_view', event.timestamp, {
      distinct_id: event.userId,
      $insert_id: event.id,
      $device_id: event.visitorId,
      $user_id: event.userId,
      ip: event.clientIP,
      $current_url: event.url,
      $referrer: event.referrer,
      $browser: event.client.browser,
      $os: event.client.os,
      utm_source: event.visit?.source,
      ...event.properties
    }, (error) => { error === undefined || error === null ? resolve() : reject(error) })
  })
  const query = new URL(sdkSink.requests[0].url, 'http://x').searchParams
  const theirs = JSON.parse(Buffer.from(query.get('data') ?? '', 'base64').toString('utf8')) as { event: string, properties: Record<string, unknown> }

  const h = await harness(t)
  h.collect(event)
  await h.finish()
  const ours = allEvents(h.sink)[0] as { event: string, properties: Record<string, unknown> }
  t.same(Object.keys(theirs).sort(), Object.keys(ours).sort(), 'the same top-level fields')
  t.equal(ours.event, theirs.event)
  for (const [key, value] of Object.entries(theirs.properties)) {
    t.ok(key in ours.properties, `properties.${key} is sent`)
    t.equal(typeof ours.properties[key], typeof value, `properties.${key} is a ${typeof value}`)
  }
  // The documented difference (docs/mixpanel.md): the library names itself.
  const same = Object.keys(theirs.properties).filter((key) => !['mp_lib', '$lib_version'].includes(key))
  for (const key of same) t.same(ours.properties[key], theirs.properties[key], `properties.${key} has the SDK's value`)
  t.equal(ours.properties.mp_lib, 'fastify-analytics')
  t.equal(theirs.properties.mp_lib, 'node')
  t.equal(ours.properties.time, event.timestamp.getTime(), 'time in ms, as the SDK sends it')
})

test('end to end through the plugin: identity and campaign from the real request, user id from the app, accounting in stats()', async (t) => {
  const rules = { token: TOKEN, authorization: TOKEN_AUTH }
  const sink = await startSink({ validate: mixpanelRules(rules), policy: mixpanelAnswer(rules) })
  const app = Fastify()
  t.teardown(async () => { await app.close(); await sink.close() })
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [mixpanelCollector({ projectToken: TOKEN, endpoint: sink.origin, flushIntervalMs: 5 })] })
  app.get('/products/:id', async () => 'ok')
  app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
    request.analytics.setUserId('user-7')
    request.analytics.setRevenue(Money.fromMinor(2999, 'GBP'))
    return 'ok'
  })
  const headers = { 'user-agent': UA, 'accept-language': 'en-GB' }
  await app.inject({ method: 'GET', url: '/products/7?utm_source=newsletter&utm_medium=email&utm_campaign=winter&reset_token=s3cr3t', headers })
  await app.inject({ method: 'POST', url: '/checkout', headers })
  await app.close()
  t.same(sink.violations, [])
  const [view, checkout] = allEvents(sink).sort((a, b) => a.properties.time - b.properties.time)
  t.match(view.properties.distinct_id, /^[0-9a-f]{32}$/, 'the cookieless visitor id')
  t.notMatch(view.properties.$current_url, /s3cr3t/, 'the URL as the privacy rules left it: no query parameter outside the allow-list')
  t.equal(view.properties.$device_id, view.properties.distinct_id)
  t.same([view.properties.utm_source, view.properties.utm_medium, view.properties.utm_campaign], ['newsletter', 'email', 'winter'])
  t.same([checkout.event, checkout.properties.distinct_id, checkout.properties.$user_id, checkout.properties.$device_id], ['checkout', 'user-7', 'user-7', view.properties.$device_id])
  t.equal(checkout.properties.utm_campaign, 'winter', 'the visit\'s campaign on its later events too')
  t.same([checkout.properties.revenue, checkout.properties.currency], [29.99, 'GBP'])
  const stats = app.analytics.stats().collectors.mixpanel
  t.same([stats.accepted, stats.delivered, stats.queued + stats.inFlight], [2, 2, 0])
})

test('an event over 1 MB (a caller that built its own event) is refused as invalid, never sent; values no property can hold are left out, never sent as null', async (t) => {
  const h = await harness(t)
  h.collect(anEvent({ properties: Object.assign(Object.create(null), { big: 'x'.repeat(1024 * 1024) }) }))
  const odd = Object.assign(Object.create(null), { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, list: ['a', 'b'] }) as unknown as Record<string, string>
  h.collect(anEvent({ properties: odd }))
  const report = await h.finish()
  t.same([report.dropped.invalid, report.delivered], [1, 1])
  t.match(h.logs.text(), /larger than Mixpanel takes/)
  const sent = allEvents(h.sink)[0].properties
  t.same(['nan', 'inf', 'list'].filter((key) => key in sent), [], 'the plugin never lets these into properties; a caller\'s own event does not get them sent as null or nested')
})
