import { inspect } from 'node:util'
import { test } from 'tap'
import { Analytics } from '@segment/analytics-node'
import type { TapTest } from '../helpers/collectors.js'
import { createEvent, EventType, type AnalyticsEvent, type EventType as EventTypeValue, type Visit } from '../../lib/event.js'
import { Money } from '../../lib/money.js'
import { segmentCollector, type SegmentCollector, type SegmentCollectorOptions } from '../../lib/collectors/segment.js'
import { interpretSegmentResponse, isSegmentRetryStatus } from '../../lib/collectors/segment/response.js'
import { startSink, type ReceivedRequest, type SinkPolicy } from '../helpers/sink.js'
import { collectorHarness, type CollectorHarness } from '../helpers/collector-harness.js'
import { segmentAnswer, segmentRules, SEGMENT_PROFILES, type SegmentService } from '../servers/segment-rules.js'

const WRITE_KEY = 'wk_TESTsegmentKEY1234'
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
const VISITOR = '0123456789abcdef0123456789abcdef'
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 4 }

const VISIT: Visit = {
  id: '01890a5d-ac96-774b-bcce-b302099a8057',
  startedAt: new Date('2026-11-27T09:58:00.000Z'),
  landingPath: '/winter',
  channel: 'Paid Search',
  source: 'google',
  medium: 'cpc',
  campaign: 'winter-sale',
  term: 'boots',
  content: 'ad-1',
  clickId: 'google'
}

function event (overrides: Partial<AnalyticsEvent> = {}, type: EventTypeValue = EventType.PageView): AnalyticsEvent {
  const e = createEvent(type, new Date('2026-11-27T10:00:00.000Z'))
  e.hostname = 'shop.example'
  e.url = 'https://shop.example/products/42?ref=mail'
  e.path = '/products/42'
  e.matchedPattern = '/products/:id'
  e.method = 'GET'
  e.userAgent = UA
  e.clientIP = '203.0.113.7'
  e.locale = 'en-GB'
  e.statusCode = 200
  e.durationMs = 3.25
  e.visitorId = VISITOR
  e.visit = VISIT
  return Object.assign(e, overrides)
}

function props (values: Record<string, unknown>): AnalyticsEvent['properties'] {
  // Typed values (issue 25 item 7) are cast in: the collector must send each as its own JSON type.
  return Object.assign(Object.create(null), values) as AnalyticsEvent['properties']
}

function batchOf (request: ReceivedRequest): Array<Record<string, any>> {
  return (JSON.parse(request.body.toString('utf8')) as { batch: Array<Record<string, any>> }).batch
}

function messages (requests: ReceivedRequest[]): Array<Record<string, any>> {
  return requests.flatMap(batchOf)
}

type Harness = CollectorHarness<SegmentCollector>

async function harness (t: TapTest, options: Partial<SegmentCollectorOptions> = {}, policy?: SinkPolicy, service: SegmentService = 'segment', prefix = ''): Promise<Harness> {
  const rules = { writeKey: options.writeKey ?? WRITE_KEY, service, path: `${prefix}/v1/batch` }
  return await collectorHarness(t, {
    validate: segmentRules(rules),
    policy: policy ?? ((request) => segmentAnswer(request, rules))
  }, (sink) => segmentCollector({ writeKey: WRITE_KEY, endpoint: `${sink.origin}${prefix}`, retry: FAST_RETRY, flushIntervalMs: 5, ...options }),
  `every request follows ${service}'s rules`)
}

test('a page view is a page call: name, messageId, timestamp, anonymousId, properties and context', async (t) => {
  const h = await harness(t)
  h.collect(event({ referrer: 'https://search.example/?q=boots', properties: props({ plan: 'annual' }) }))
  const report = await h.finish()
  t.equal(report.delivered, 1)
  const [message] = messages(h.sink.requests)
  const sent = h.collector
  t.same(message, {
    type: 'page',
    messageId: message.messageId,
    timestamp: '2026-11-27T10:00:00.000Z',
    anonymousId: VISITOR,
    name: '/products/:id',
    properties: {
      plan: 'annual',
      path: '/products/42',
      url: 'https://shop.example/products/42?ref=mail',
      referrer: 'https://search.example/?q=boots',
      search: '?ref=mail',
      statusCode: 200,
      durationMs: 3.25
    },
    context: {
      library: { name: 'fastify-analytics' },
      page: { path: '/products/42', url: 'https://shop.example/products/42?ref=mail', search: '?ref=mail', referrer: 'https://search.example/?q=boots' },
      ip: '203.0.113.0',
      userAgent: UA,
      locale: 'en-GB',
      campaign: { source: 'google', medium: 'cpc', name: 'winter-sale', term: 'boots', content: 'ad-1' }
    }
  })
  t.match(message.messageId, /^[0-9a-f-]{36}$/)
  t.equal(h.sink.requests[0].headers.authorization, `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`)
  t.notOk(inspect(sent, { depth: Infinity, showHidden: true }).includes(WRITE_KEY), 'the write key is not in util.inspect')
  t.notOk(JSON.stringify(sent).includes(WRITE_KEY), 'nor in JSON')
  t.notOk(h.sink.requests[0].body.toString().includes(WRITE_KEY), 'nor in the body: it travels in the Authorization header only')
})

test('messageId is the event id, the same on every attempt', async (t) => {
  let calls = 0
  const h = await harness(t, {}, () => (++calls < 3 ? { kind: 'respond', status: 503 } : { kind: 'respond', status: 200, body: '{}' }))
  const e = event()
  h.collect(e)
  const report = await h.finish()
  t.equal(report.delivered, 1)
  t.equal(report.retries, 2)
  t.equal(h.sink.requests.length, 3)
  t.ok(h.sink.requests.every((r) => r.body.equals(h.sink.requests[0].body)), 'byte for byte the same, so Segment deduplicates on messageId')
  t.equal(batchOf(h.sink.requests[0])[0].messageId, e.id)
})

test('actions and custom events are track calls; revenue is Segment\'s revenue and currency; values keep their JSON type', async (t) => {
  const h = await harness(t)
  h.collect(event({ actionName: 'checkout', method: 'POST', revenue: Money.fromMinor(2999, 'GBP'), properties: props({ plan: 'annual', seats: 3, trial: false }) }, EventType.Action))
  h.collect(event({ eventName: 'signup', userId: 'user-7', properties: props({ revenue: 'app-set', ratio: 0.5 }) }, EventType.Custom))
  await h.finish()
  const [checkout, signup] = messages(h.sink.requests).sort((a, b) => a.event.localeCompare(b.event))
  t.equal(checkout.type, 'track')
  t.equal(checkout.event, 'checkout')
  t.same(checkout.properties, { plan: 'annual', seats: 3, trial: false, statusCode: 200, durationMs: 3.25, revenue: 29.99, currency: 'GBP' })
  t.equal(checkout.name, undefined, 'track calls carry no page name')
  t.same(checkout.context.page, { path: '/products/42', url: 'https://shop.example/products/42?ref=mail', search: '?ref=mail' }, 'the page is in context.page')
  t.equal(signup.event, 'signup')
  t.equal(signup.userId, 'user-7')
  t.equal(signup.anonymousId, VISITOR, 'both ids: Segment stitches the visitor to the user')
  t.same(signup.properties, { revenue: 'app-set', ratio: 0.5, statusCode: 200, durationMs: 3.25 }, 'without revenue, an app property of that name is kept')
})

test('an app\'s own revenue and currency properties never pass for the spec\'s: moved to x_revenue and x_currency where they would', async (t) => {
  const h = await harness(t)
  h.collect(event({ eventName: 'a', properties: props({ currency: 'gbp!' }) }, EventType.Custom))
  h.collect(event({ eventName: 'b', properties: props({ revenue: 12.5, currency: 'EUR' }) }, EventType.Custom))
  h.collect(event({ eventName: 'c', revenue: Money.fromMinor(500, 'JPY'), properties: props({ revenue: 'app', currency: 'USD' }) }, EventType.Custom))
  await h.finish()
  const [a, b, c] = messages(h.sink.requests).sort((x, y) => x.event.localeCompare(y.event))
  t.same(a.properties, { x_currency: 'gbp!', statusCode: 200, durationMs: 3.25 }, 'a currency beside no numeric revenue is not Segment\'s')
  t.same(b.properties, { revenue: 12.5, currency: 'EUR', statusCode: 200, durationMs: 3.25 }, 'a valid pair the app set is kept as Segment\'s spec reads it')
  t.same(c.properties, { x_revenue: 'app', x_currency: 'USD', statusCode: 200, durationMs: 3.25, revenue: 500, currency: 'JPY' }, 'the event\'s Money wins; the app\'s values are kept aside')
})

test('without a visitor id: the user id alone, or the event\'s own id as anonymousId', async (t) => {
  const h = await harness(t)
  h.collect(event({ visitorId: '', visit: null, userId: 'job-user' }, EventType.PageView))
  const job = event({ visitorId: '', visit: null, eventName: 'nightly', url: '', path: '' }, EventType.Custom)
  h.collect(job)
  await h.finish()
  const [page, nightly] = messages(h.sink.requests).sort((a, b) => a.type.localeCompare(b.type))
  t.equal(page.userId, 'job-user')
  t.equal(page.anonymousId, undefined)
  t.equal(page.context.campaign, undefined, 'no visit, no campaign')
  t.equal(nightly.anonymousId, job.id, 'Segment needs one of the two: a one-event visitor, not all jobs merged')
})

test('ip option: truncate by default, full, none; an anonymous-consent event is truncated even with full', async (t) => {
  for (const [ip, expected] of [[undefined, '203.0.113.0'], ['full', '203.0.113.7'], ['none', undefined]] as const) {
    const h = await harness(t, ip === undefined ? {} : { ip })
    h.collect(event())
    await h.finish()
    t.equal(messages(h.sink.requests)[0].context.ip, expected, `ip: ${ip ?? 'default'}`)
  }
  const h = await harness(t, { ip: 'full' })
  h.collect(event({ consent: 'anonymous' }))
  await h.finish()
  t.equal(messages(h.sink.requests)[0].context.ip, '203.0.113.0')
})

test('a message over 32 KB is counted rejected and not sent; the rest of its batch is', async (t) => {
  const h = await harness(t, { maxBatchSize: 10 })
  const big: Record<string, string> = {}
  for (let i = 0; i < 40; i++) big[`k${i}`] = 'x'.repeat(1000)
  h.collect(event({ eventName: 'big', properties: props(big) }, EventType.Custom))
  h.collect(event({ eventName: 'small' }, EventType.Custom))
  const report = await h.finish()
  t.equal(report.dropped.rejected, 1)
  t.equal(report.delivered, 1)
  t.same(messages(h.sink.requests).map((m) => m.event), ['small'])
  t.ok(h.logs.lines.some((line) => /32 KB/.test(String(line.msg))), 'logged with the limit')
})

test('a message of exactly 32 KB is sent; batches are split to stay within 500 KB', async (t) => {
  const h = await harness(t, { maxBatchSize: 100 })
  // ~30 KB messages: 100 of them make 3 MB, sent as requests of at most 500 KB (16 messages).
  for (let i = 0; i < 100; i++) h.collect(event({ eventName: `e${i}`, properties: props({ pad: 'y'.repeat(30_000) }) }, EventType.Custom))
  const report = await h.finish()
  t.equal(report.delivered, 100)
  t.ok(h.sink.requests.length >= 7, `${h.sink.requests.length} requests`)
  t.ok(h.sink.requests.every((r) => r.body.length <= 500 * 1024), 'every body within 500 KB')
  t.ok(Math.max(...h.sink.requests.map((r) => r.body.length)) > 450 * 1024, 'and filled close to it')
  t.same(messages(h.sink.requests).map((m) => m.event).sort(), Array.from({ length: 100 }, (_, i) => `e${i}`).sort())

  const exact = await harness(t)
  const probe = event({ eventName: 'edge', properties: props({ pad: '' }) }, EventType.Custom)
  const emptySize = Buffer.byteLength(JSON.stringify(messageFor(probe)))
  probe.properties = props({ pad: 'z'.repeat(32 * 1024 - emptySize) })
  exact.collect(probe)
  const edge = await exact.finish()
  t.equal(edge.delivered, 1, 'exactly 32 KB is within the limit')
  t.equal(Buffer.byteLength(JSON.stringify(batchOf(exact.sink.requests[0])[0])), 32 * 1024)
})

test('responses: 400 and 401 are final, the vendor\'s retry statuses are retried', async (t) => {
  for (const [status, outcome] of [[400, 'rejected'], [401, 'rejected'], [413, 'rejected'], [501, 'rejected'], [410, 'delivered'], [460, 'delivered'], [502, 'delivered']] as const) {
    let calls = 0
    const h = await harness(t, {}, () => (++calls === 1 ? { kind: 'respond', status, body: '{"error":"x"}' } : { kind: 'respond', status: 200, body: '{}' }))
    h.collect(event())
    const report = await h.finish()
    if (outcome === 'rejected') t.same([report.dropped.rejected, h.sink.requests.length], [1, 1], `${status}: rejected, sent once`)
    else t.same([report.delivered, report.retries], [1, 1], `${status}: retried, then delivered`)
  }
  t.same([400, 401, 403, 404, 413, 422, 501, 505, 511, 200, 302].filter(isSegmentRetryStatus), [])
  t.same([408, 410, 429, 460, 500, 502, 503, 504, 599].filter((s) => !isSegmentRetryStatus(s)), [])
  t.match(interpretSegmentResponse({ statusCode: 429, headers: { 'retry-after': '3' }, body: '' }, 'the Segment API'), { outcome: 'retry', retryAfterMs: 3000 })
  t.match(interpretSegmentResponse({ statusCode: 401, headers: {}, body: '' }, 'the Segment API'), { outcome: 'rejected', detail: /writeKey/ })
})

test('a wrong write key: the batch is rejected with a hint, and the key is never logged', async (t) => {
  const rules = { writeKey: 'the-right-key', service: 'segment' as const }
  const sink = await startSink({ policy: (request) => segmentAnswer(request, rules) })
  t.teardown(() => sink.close())
  const collector = segmentCollector({ writeKey: WRITE_KEY, endpoint: sink.origin, flushIntervalMs: 5 })
  const lines: string[] = []
  const log = { info: () => {}, debug: () => {}, trace: () => {}, fatal: () => {}, warn: (o: unknown, m?: string) => lines.push(JSON.stringify(o) + String(m)), error: (o: unknown, m?: string) => lines.push(JSON.stringify(o) + String(m)), child: () => log } as never
  collector.start(new AbortController().signal, { log })
  collector.collect(event())
  await collector.flush(AbortSignal.timeout(5000))
  await collector.close(AbortSignal.timeout(5000))
  t.equal(collector.stats().dropped.rejected, 1)
  t.ok(lines.some((line) => line.includes('401')), 'logged with the status')
  t.notOk(lines.join('\n').includes(WRITE_KEY), 'not the key')
  t.notOk(lines.join('\n').includes(Buffer.from(`${WRITE_KEY}:`).toString('base64')), 'nor its Basic form')
})

for (const [service, prefix] of [['rudderstack', ''], ['jitsu', ''], ['jitsu', '/api/v1/segment']] as const) {
  test(`${service}${prefix === '' ? '' : ` (classic, ${prefix})`}: the same collector through the endpoint option, within the service's limits`, async (t) => {
    const h = await harness(t, { maxBatchSize: 50 }, undefined, service, prefix)
    for (let i = 0; i < 30; i++) h.collect(event({ eventName: `e${i}`, properties: props({ pad: 'p'.repeat(20_000) }) }, EventType.Custom))
    h.collect(event())
    const report = await h.finish()
    t.equal(report.delivered, 31)
    t.ok(h.sink.requests.every((r) => r.url === `${prefix}/v1/batch`), `every batch went to ${prefix}/v1/batch`)
    t.ok(h.sink.requests.every((r) => r.body.length <= Math.min(SEGMENT_PROFILES[service].maxBatchBytes, 500 * 1024)), 'within Segment\'s 500 KB, which every compatible service accepts')
  })
}

test('bad options are refused at construction, never quoting the write key', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /options must be an object/],
    [{}, /writeKey is required/],
    [{ writeKey: ' ' }, /writeKey is required/],
    [{ writeKey: 'a\nb' }, /control characters/],
    [{ writeKey: WRITE_KEY, endpoint: 'api.segment.io' }, /not an absolute URL/],
    [{ writeKey: WRITE_KEY, endpoint: 'https://api.segment.io/v1/batch' }, /ends with \/v1 or \/v1\/batch/],
    [{ writeKey: WRITE_KEY, endpoint: 'https://api.segment.io/v1/' }, /ends with \/v1/],
    [{ writeKey: WRITE_KEY, endpoint: 'https://api.segment.io/?x=1' }, /query or fragment/],
    [{ writeKey: WRITE_KEY, maxBatchSize: 2501 }, /at most 2500/],
    [{ writeKey: WRITE_KEY, ip: 'half' }, /ip must be/],
    [{ writeKey: WRITE_KEY, writekey: 'x' }, /unknown option "writekey"/]
  ]
  for (const [options, message] of bad) {
    t.throws(() => segmentCollector(options as SegmentCollectorOptions), { code: 'FST_ANALYTICS_INVALID_OPTION', message }, JSON.stringify(options)?.replace(WRITE_KEY, 'KEY') ?? 'undefined')
    try { segmentCollector(options as SegmentCollectorOptions) } catch (error) { t.notOk(String((error as Error).message).includes(WRITE_KEY)) }
  }
  t.equal(segmentCollector({ writeKey: WRITE_KEY }).name, 'segment')
  t.equal(segmentCollector({ writeKey: WRITE_KEY, endpoint: 'https://events.eu1.segmentapis.com', name: 'segment-eu' }).name, 'segment-eu')
})

// ---- oracle: @segment/analytics-node beside the collector, same event, same server ----------

/** Every leaf of a JSON value as `path → type`. */
function leaves (value: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value)
    // An empty object is a leaf of its own (the SDK's `integrations: {}`).
    if (entries.length === 0 && path !== '') out.set(path, 'object')
    for (const [key, item] of entries) leaves(item, path === '' ? key : `${path}.${key}`, out)
  } else out.set(path, Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value)
  return out
}

function messageFor (e: AnalyticsEvent): Record<string, unknown> {
  // What the collector would send, read back through a real sink in the oracle test; here only for sizes.
  return { type: 'track', messageId: e.id, timestamp: e.timestamp.toISOString(), anonymousId: e.visitorId, event: e.eventName, properties: { ...e.properties, statusCode: e.statusCode, durationMs: e.durationMs }, context: { library: { name: 'fastify-analytics' }, page: { path: e.path, url: e.url, search: '?ref=mail' }, ip: '203.0.113.0', userAgent: e.userAgent, locale: e.locale, campaign: { source: 'google', medium: 'cpc', name: 'winter-sale', term: 'boots', content: 'ad-1' } } }
}

/**
 * What an app doing the same job by hand would give the SDK, written from the event's fields and
 * Segment's spec (common fields, page and track specs, e-commerce `revenue`/`currency`), not from
 * the collector's output: the SDK then decides where each lands.
 */
async function viaSdk (origin: string, e: AnalyticsEvent): Promise<void> {
  const sdk = new Analytics({ writeKey: WRITE_KEY, host: origin, flushAt: 1, maxRetries: 0 })
  const visit = e.visit as Visit
  const page = { path: e.path, url: e.url, search: '?ref=mail', referrer: e.referrer }
  const properties: Record<string, unknown> = { ...e.properties, statusCode: e.statusCode, durationMs: e.durationMs }
  if (e.type === EventType.PageView) Object.assign(properties, page)
  if (e.revenue !== undefined) Object.assign(properties, { revenue: e.revenue.toNumber(), currency: e.revenue.currency })
  const common = {
    messageId: e.id,
    timestamp: e.timestamp,
    anonymousId: e.visitorId,
    userId: e.userId,
    properties,
    context: {
      ip: '203.0.113.0', // the collector's default: the client IP's /24
      userAgent: e.userAgent,
      locale: e.locale,
      page,
      campaign: { name: visit.campaign, source: visit.source, medium: visit.medium, term: visit.term, content: visit.content }
    }
  }
  if (e.type === EventType.PageView) sdk.page({ ...common, name: e.matchedPattern })
  else sdk.track({ ...common, event: e.type === EventType.Action ? e.actionName : e.eventName })
  await sdk.closeAndFlush({ timeout: 5000 })
}

// Fields only the SDK sends, each with why the collector leaves it out (docs/segment.md lists them).
const SDK_ONLY: Record<string, string> = {
  '_metadata.nodeVersion': 'the SDK\'s runtime diagnostics, for Segment\'s support of that library',
  '_metadata.jsRuntime': 'the same',
  'context.library.version': 'the plugin reports its name; its version is not part of the event',
  integrations: 'always {} from the SDK, which means the default: every destination of the source',
  writeKey: 'a second copy of the secret in every body; the Authorization header carries it',
  sentAt: 'frozen at the first attempt it would shift retried events (see encodeSegmentBatch)'
}

for (const type of [EventType.PageView, EventType.Action, EventType.Custom]) {
  test(`oracle (${type}): the collector's message carries every field @segment/analytics-node's does, in the same place and type`, async (t) => {
    const rules = { writeKey: WRITE_KEY }
    const sink = await startSink({ validate: segmentRules(rules), policy: (request) => segmentAnswer(request, rules) })
    t.teardown(() => sink.close())
    const e = event({
      referrer: 'https://search.example/?q=boots',
      userId: 'user-7',
      actionName: 'checkout',
      eventName: type === EventType.Custom ? 'signup' : '',
      revenue: Money.fromMinor(2999, 'GBP'),
      properties: props({ plan: 'annual', seats: 3, trial: false })
    }, type)

    const collector = segmentCollector({ writeKey: WRITE_KEY, endpoint: sink.origin, flushIntervalMs: 1 })
    collector.start(new AbortController().signal, { log: undefined as never })
    collector.collect(e)
    await collector.close(AbortSignal.timeout(5000))
    t.equal(collector.stats().delivered, 1)
    t.equal(sink.requests.length, 1)
    const ours = JSON.parse(sink.requests[0].body.toString()) as Record<string, any>
    const message = ours.batch[0] as Record<string, any>

    await viaSdk(sink.origin, e)
    t.equal(sink.requests.length, 2, 'the SDK sent its batch to the same server')
    t.same(sink.violations, [], 'both follow the API\'s rules')
    const theirs = JSON.parse(sink.requests[1].body.toString()) as Record<string, any>

    t.equal(sink.requests[0].headers.authorization, sink.requests[1].headers.authorization, 'the same Basic auth')
    t.equal(sink.requests[0].url, sink.requests[1].url, 'the same path')
    const ourLeaves = leaves({ ...ours, batch: undefined, ...message })
    const theirLeaves = leaves({ ...theirs, batch: undefined, ...theirs.batch[0] })
    const missing: string[] = []
    for (const [path, kind] of theirLeaves) {
      if (path === 'batch' || SDK_ONLY[path] !== undefined) continue
      // `context.library.name` is there on both sides, with each library's own name.
      if (ourLeaves.get(path) !== kind) missing.push(`${path}: SDK ${kind}, collector ${ourLeaves.get(path) ?? 'absent'}`)
    }
    t.same(missing, [], 'no SDK field is missing or of another type')
    for (const [path, kind] of theirLeaves) {
      if (kind === 'object' || SDK_ONLY[path] !== undefined || path === 'context.library.name') continue
      const value = (root: Record<string, any>): unknown => path.split('.').reduce<any>((at, key) => at?.[key], root)
      t.same(value(message), value(theirs.batch[0]), `${path}: the same value`)
    }
    t.same(Object.keys(SDK_ONLY).filter((path) => !theirLeaves.has(path)), [], 'every listed difference is real (the SDK still sends it)')
  })
}

test('fastify-analytics/segment exports only the public API: the collector, its factory, the documented defaults and limits', async (t) => {
  const segmentPublic = await import('../../lib/collectors/segment.js')
  t.same(Object.keys(segmentPublic).sort(), [
    'DEFAULT_SEGMENT_BATCH_SIZE', 'DEFAULT_SEGMENT_CONCURRENCY', 'DEFAULT_SEGMENT_ENDPOINT', 'DEFAULT_SEGMENT_FLUSH_INTERVAL_MS',
    'DEFAULT_SEGMENT_NAME', 'SEGMENT_MAX_BATCH_BYTES', 'SEGMENT_MAX_BATCH_MESSAGES', 'SEGMENT_MAX_MESSAGE_BYTES',
    'SegmentCollector', 'segmentCollector'
  ].sort())
  t.same([segmentPublic.DEFAULT_SEGMENT_ENDPOINT, segmentPublic.DEFAULT_SEGMENT_BATCH_SIZE, segmentPublic.DEFAULT_SEGMENT_FLUSH_INTERVAL_MS, segmentPublic.DEFAULT_SEGMENT_CONCURRENCY],
    ['https://api.segment.io', 100, 1000, 2])
  t.same([segmentPublic.SEGMENT_MAX_MESSAGE_BYTES, segmentPublic.SEGMENT_MAX_BATCH_BYTES, segmentPublic.SEGMENT_MAX_BATCH_MESSAGES], [32 * 1024, 500 * 1024, 2500])
})
