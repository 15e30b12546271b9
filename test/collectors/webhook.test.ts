import { createSecretKey, randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { test } from 'tap'
import type { TapTest } from '../helpers/collectors.js'
import { Webhook } from 'standardwebhooks'
import { Webhook as SvixWebhook } from 'svix'
import { createEvent, EventType, eventToJSON, type AnalyticsEvent, type EventType as EventTypeValue } from '../../lib/event.js'
import { Money } from '../../lib/money.js'
import * as webhookPublic from '../../lib/collectors/webhook.js'
import { webhookCollector, type WebhookCollector, type WebhookCollectorOptions, type WebhookBody } from '../../lib/collectors/webhook.js'
import { decodeWebhookSecret } from '../../lib/collectors/webhook/secret.js'
import { signWebhook } from '../../lib/collectors/webhook/sign.js'
import type { Sink, SinkPolicy } from '../helpers/sink.js'
import { collectorHarness, type CollectorHarness } from '../helpers/collector-harness.js'
import { webhookRules, webhookBodyValidator } from '../servers/webhook-rules.js'

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 5 }
const SECRET_BYTES = randomBytes(32)
const SECRET = `whsec_${SECRET_BYTES.toString('base64')}`

let counter = 0
function anEvent (overrides: Partial<AnalyticsEvent> = {}, type: EventTypeValue = EventType.PageView): AnalyticsEvent {
  const event = createEvent(type, new Date(Date.UTC(2026, 10, 27, 10, 0, 0, counter++ % 1000)))
  event.hostname = 'shop.example'
  event.url = 'https://shop.example/products/42?ref=mail'
  event.path = '/products/42'
  event.method = 'GET'
  event.matchedPattern = '/products/:id'
  event.userAgent = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'
  event.clientIP = '203.0.113.7'
  event.statusCode = 200
  event.durationMs = 3.25
  event.properties.seq = String(counter)
  return Object.assign(event, overrides)
}

function bodyOf (sink: Sink, index: number): WebhookBody {
  return JSON.parse(sink.requests[index].body.toString('utf8')) as WebhookBody
}

type Harness = CollectorHarness<WebhookCollector>

async function harness (t: TapTest, options: Partial<WebhookCollectorOptions> = {}, policy?: SinkPolicy, path = '/hooks/analytics?tenant=7'): Promise<Harness> {
  return await collectorHarness(t, {
    validate: webhookRules({ path, secret: options.secret }),
    policy: policy ?? (() => ({ kind: 'respond', status: 204 }))
  }, (sink) => webhookCollector({ url: `${sink.origin}${path}`, retry: FAST_RETRY, ...options }),
  'every body matches the shipped schema (and verifies when signed)')
}

test('a batch is one POST of { id, schema: 3, sentAt, events } with each event in its JSON form', async (t) => {
  const h = await harness(t)
  const events = [
    anEvent(),
    anEvent({ actionName: 'checkout', method: 'POST', revenue: Money.fromMinor(2999, 'GBP') }, EventType.Action),
    anEvent({ eventName: 'coupon.applied', properties: Object.assign(Object.create(null), { code: 'X', ['__proto__']: 'data', emoji: '😀' }) }, EventType.Custom)
  ]
  // The default `ip: 'truncate'` keeps the /24 of 203.0.113.7.
  const expected = events.map((event) => ({ ...eventToJSON(event), clientIP: '203.0.113.0' }))
  for (const event of events) h.collect(event)
  const report = await h.finish()
  t.equal(report.delivered, 3)
  t.equal(h.sink.requests.length, 1)
  const body = bodyOf(h.sink, 0)
  t.match(body, { schema: 3, id: /^[0-9a-f-]{36}$/ })
  t.ok(Math.abs(Date.parse(body.sentAt) - Date.now()) < 10_000, 'sentAt is when it was sent')
  t.same(body.events, JSON.parse(JSON.stringify(expected)))
  t.equal(body.events[1].revenue?.amount, '29.99')
  t.equal(body.events[2].properties.__proto__, 'data', '__proto__ is data, not a prototype') // eslint-disable-line no-proto -- the point of the check
  t.equal(h.sink.requests[0].headers['webhook-id'], body.id)
  t.equal(h.sink.requests[0].headers['webhook-signature'], undefined, 'not signed without a secret')
  t.equal(h.sink.requests[0].headers['user-agent'], 'fastify-analytics')
})

test('the event is snapshotted at collect: later changes to it are not sent', async (t) => {
  const h = await harness(t, { flushIntervalMs: 60_000 })
  const event = anEvent({ eventName: 'before' }, EventType.Custom)
  h.collect(event)
  event.eventName = 'after'
  event.properties.late = 'x'
  const report = await h.finish()
  t.equal(report.delivered, 1)
  t.equal(bodyOf(h.sink, 0).events[0].eventName, 'before')
  t.equal(bodyOf(h.sink, 0).events[0].properties.late, undefined)
})

test('batches by size: maxBatchSize events per request, the rest on flush', async (t) => {
  const h = await harness(t, { maxBatchSize: 10, flushIntervalMs: 60_000 })
  for (let i = 0; i < 25; i++) h.collect(anEvent())
  await h.sink.waitForRequests(2, 2000)
  t.same(h.sink.requests.map((_, i) => bodyOf(h.sink, i).events.length), [10, 10], 'full batches leave without a flush')
  const report = await h.finish()
  t.equal(report.delivered, 25)
  t.same(h.sink.requests.map((_, i) => bodyOf(h.sink, i).events.length), [10, 10, 5])
  const ids = new Set(h.sink.requests.map((_, i) => bodyOf(h.sink, i).id))
  t.equal(ids.size, 3, 'a fresh id per batch')
  const seqs = h.sink.requests.flatMap((_, i) => bodyOf(h.sink, i).events.map((event) => Number(event.properties.seq)))
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'events arrive in order')
})

test('batches by interval: a partial batch leaves after flushIntervalMs', async (t) => {
  const h = await harness(t, { maxBatchSize: 100, flushIntervalMs: 50 })
  const started = Date.now()
  for (let i = 0; i < 3; i++) h.collect(anEvent())
  await h.sink.waitForRequests(1, 2000)
  t.ok(Date.now() - started >= 40, 'not before the interval')
  t.equal(bodyOf(h.sink, 0).events.length, 3)
  await h.finish()
})

test('bodies stay under maxBodyBytes: a batch is split, an event too large on its own is dropped as invalid', async (t) => {
  const h = await harness(t, { maxBodyBytes: 4096, flushIntervalMs: 60_000 })
  for (let i = 0; i < 12; i++) h.collect(anEvent({ properties: Object.assign(Object.create(null), { pad: 'é'.repeat(400) }) }))
  h.collect(anEvent({ properties: Object.assign(Object.create(null), { pad: 'x'.repeat(5000) }) }))
  h.collect(anEvent({ properties: Object.assign(Object.create(null), { pad: '€'.repeat(1500) }) })) // 4500 bytes in 1500 units
  const report = await h.finish()
  t.equal(report.delivered, 12)
  t.equal(report.dropped.invalid, 2)
  t.ok(h.sink.requests.length > 1, 'split into several requests')
  for (const request of h.sink.requests) t.ok(request.body.length <= 4096, `${request.body.length} bytes ≤ 4096`)
  t.equal(new Set(h.sink.requests.map((_, i) => bodyOf(h.sink, i).id)).size, h.sink.requests.length, 'each part has its own id')
  t.match(h.logs.text(), /too large for one webhook body/)
})

test('signed per Standard Webhooks: the standardwebhooks package verifies every request', async (t) => {
  const h = await harness(t, { secret: SECRET })
  h.collect(anEvent({ properties: Object.assign(Object.create(null), { note: 'naïve 😀 \u2028 "quoted"' }) }))
  h.collect(anEvent())
  await h.finish()
  const request = h.sink.requests[0]
  const headers = request.headers as Record<string, string>
  t.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/)
  t.match(headers['webhook-timestamp'], /^\d{10}$/)
  t.ok(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000) < 10)
  const verified = new Webhook(SECRET).verify(request.body.toString('utf8'), headers) as WebhookBody
  t.equal(verified.events.length, 2)
  t.throws(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(request.body.toString('utf8'), headers), /No matching signature/, 'another secret does not verify')
  t.throws(() => new Webhook(SECRET).verify(request.body.toString('utf8').replace('naïve', 'naive'), headers), /No matching signature/, 'a changed body does not verify')
})

test('a raw base64 secret (no whsec_ prefix) signs the same way', async (t) => {
  const raw = SECRET_BYTES.toString('base64')
  const h = await harness(t, { secret: raw })
  h.collect(anEvent())
  await h.finish()
  const request = h.sink.requests[0]
  const headers = request.headers as Record<string, string>
  t.equal(headers['webhook-signature'], signWebhook(createSecretKey(SECRET_BYTES), headers['webhook-id'], Number(headers['webhook-timestamp']), request.body.toString('utf8')))
  t.doesNotThrow(() => new Webhook(SECRET).verify(request.body.toString('utf8'), headers))
})

test('503 with Retry-After past the 5-minute tolerance: every attempt is re-signed, svix and standardwebhooks verify each', async (t) => {
  // A controllable clock instead of real 2-minute waits: Date.now is what the collector signs with
  // and what both verifiers check a timestamp against. Each 503 moves it on by its Retry-After, as if
  // the collector had waited that long (the engine caps the real wait at retry.maxDelayMs).
  const realNow = Date.now
  let skewMs = 0
  Date.now = () => realNow() + skewMs
  t.teardown(() => { Date.now = realNow })
  const RETRY_AFTER_S = 120
  const svix = new SvixWebhook(SECRET)
  const standard = new Webhook(SECRET)
  const failures: string[] = []
  const h = await harness(t, { secret: SECRET, maxBodyBytes: 1024, maxBatchSize: 10, flushIntervalMs: 60_000 }, (request, index) => {
    const body = request.body.toString('utf8')
    const headers = request.headers as Record<string, string>
    for (const [name, verifier] of [['svix', svix], ['standardwebhooks', standard]] as const) {
      try { verifier.verify(body, headers) } catch (error) { failures.push(`request ${index}, ${name}: ${(error as Error).message}`) }
    }
    if (index >= 4) return { kind: 'respond', status: 204 }
    skewMs += RETRY_AFTER_S * 1000
    return { kind: 'respond', status: 503, headers: { 'retry-after': String(RETRY_AFTER_S) } }
  })
  // One such event fills a 1 KiB body: a batch of three is split in three requests, and the later
  // two wait behind the first one's retries (prepared at once, sent minutes later on this clock).
  for (let i = 0; i < 3; i++) h.collect(anEvent({ properties: Object.assign(Object.create(null), { pad: 'x'.repeat(250) }) }))
  await h.collector.flush(AbortSignal.timeout(5000))
  const report = await h.finish()
  t.same(failures, [], 'both verifiers accept every attempt, on a clock 8 minutes past the first one')
  t.equal(report.delivered, 3)
  t.equal(report.retries, 4)
  const requests = h.sink.requests
  t.equal(requests.length, 7, 'five attempts of the first part, one of each other part')
  const first = requests[0]
  const timestamps = requests.map((request) => Number(request.headers['webhook-timestamp']))
  for (const request of requests.slice(1, 5)) {
    t.ok(request.body.equals(first.body), 'a retry re-sends identical body bytes')
    t.equal(request.headers['webhook-id'], first.headers['webhook-id'], 'and the same webhook-id')
  }
  for (let i = 1; i < requests.length; i++) {
    t.ok(timestamps[i] >= timestamps[i - 1] + (i < 5 ? RETRY_AFTER_S : 0), `attempt ${i} carries a fresh webhook-timestamp`)
    t.not(requests[i].headers['webhook-signature'], requests[i - 1].headers['webhook-signature'], 'and a fresh signature')
  }
  t.equal(new Set(requests.map((request) => request.headers['webhook-id'])).size, 3, 'each part has its own id')
})

test('a 4xx is rejected without retry; exhausted retries are failed', async (t) => {
  const h = await harness(t, { maxBatchSize: 2, flushIntervalMs: 60_000, retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 2 } },
    (_request, index) => index === 0 ? { kind: 'respond', status: 410 } : { kind: 'respond', status: 500 })
  for (let i = 0; i < 4; i++) h.collect(anEvent())
  const report = await h.finish()
  t.equal(report.delivered, 0)
  t.equal(report.dropped.rejected, 2, '410 Gone: the first batch, not retried')
  t.equal(report.dropped.failed, 2, '500 twice: the second batch, retries exhausted')
  t.equal(h.sink.requests.length, 3)
})

test('the secret never shows: not in logs, errors, stats or util.inspect', async (t) => {
  const authorization = `Bearer ${randomBytes(24).toString('hex')}`
  const h = await harness(t, { secret: SECRET, headers: { authorization } }, (_request, index) => index === 0
    ? { kind: 'respond', status: 400, body: 'bad request' }
    : { kind: 'respond', status: 503 })
  h.collect(anEvent())
  await h.collector.flush(AbortSignal.timeout(2000))
  h.collect(anEvent())
  const report = await h.finish()
  t.equal(report.dropped.rejected, 1)
  t.equal(report.dropped.failed, 1)
  const encoded = SECRET.slice('whsec_'.length)
  const places = {
    logs: h.logs.text(),
    inspect: inspect(h.collector, { depth: Infinity, showHidden: true, getters: true }),
    stats: JSON.stringify(h.collector.stats()),
    json: JSON.stringify(h.collector)
  }
  t.ok(places.logs.length > 0, 'failures were logged')
  for (const [where, text] of Object.entries(places)) {
    t.notOk(text.includes(encoded), `secret not in ${where}`)
    t.notOk(text.includes(SECRET_BYTES.toString('hex')), `secret bytes not in ${where}`)
    t.notOk(text.includes(authorization.slice(7)), `authorization not in ${where}`)
  }
  for (const bad of [`whsec_${randomBytes(8).toString('base64')}`, `whsec_${encoded}!`]) {
    try {
      webhookCollector({ url: 'https://hooks.example/', secret: bad })
      t.fail('should throw')
    } catch (error) {
      t.notOk(inspect(error).includes(bad.slice(6, 14)), 'the error does not quote the secret')
    }
  }
})

test('custom headers are sent (lower-cased names), defaults can be overridden where allowed', async (t) => {
  const h = await harness(t, { headers: { Authorization: 'Bearer abc', 'X-Tenant': 'acme', 'User-Agent': 'acme-analytics/1' } })
  h.collect(anEvent())
  await h.finish()
  const headers = h.sink.requests[0].headers
  t.equal(headers.authorization, 'Bearer abc')
  t.equal(headers['x-tenant'], 'acme')
  t.equal(headers['user-agent'], 'acme-analytics/1')
  t.match(headers['content-type'], /^application\/json/)
  t.equal(h.sink.requests[0].rawHeaders.filter((name) => name.toLowerCase() === 'content-type').length, 1, 'one content-type (regression: piko added a second)')
})

test('bad options are refused at construction', async (t) => {
  const url = 'https://hooks.example/analytics'
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /options must be an object/],
    [{}, /url is required/],
    [{ url: '/relative' }, /not an absolute URL/],
    [{ url: 'ftp://hooks.example/' }, /http or https/],
    [{ url: 'https://user:pass@hooks.example/' }, /credentials/],
    [{ url: `${url}#frag` }, /fragment/],
    [{ url, headers: 'x' }, /headers must be an object/],
    [{ url, headers: ['x'] }, /headers must be an object/],
    [{ url, headers: { 'X-Evil': 'a\r\nInjected: 1' } }, /"X-Evil" has a control character/],
    [{ url, headers: { 'X-Tab': 'a\tb' } }, /control character/],
    [{ url, headers: { 'X-Wide': 'ü😀' } }, /outside Latin-1/],
    [{ url, headers: { 'Bad Name': 'x' } }, /not a valid HTTP token/],
    [{ url, headers: { 'X-A': 'x', 'x-a': 'y' } }, /given twice/],
    [{ url, headers: { 'X-Num': 1 } }, /string value/],
    [{ url, headers: { 'Content-Length': '10' } }, /cannot be overridden/],
    [{ url, headers: { 'Transfer-Encoding': 'chunked' } }, /cannot be overridden/],
    [{ url, headers: { Connection: 'close' } }, /cannot be overridden/],
    [{ url, headers: { Host: 'other.example' } }, /cannot be overridden/],
    [{ url, headers: { 'Content-Type': 'text/plain' } }, /cannot be overridden/],
    [{ url, headers: { 'Webhook-Signature': 'v1,x' } }, /cannot be overridden/],
    [{ url, secret: 42 }, /secret must be a string/],
    [{ url, secret: '' }, /base64/],
    [{ url, secret: 'whsec_not base64!' }, /base64/],
    [{ url, secret: `whsec_${randomBytes(16).toString('base64')}` }, /24–64 random bytes, it decodes to 16/],
    [{ url, secret: randomBytes(65).toString('base64') }, /it decodes to 65/],
    [{ url, maxBodyBytes: 100 }, /maxBodyBytes/],
    [{ url, name: '' }, /name must be/],
    [{ url, secrett: 'x' }, /unknown option "secrett"/],
    [{ url, concurrency: 0 }, /concurrency/],
    [{ url, retry: { maxAttempts: 0 } }, /maxAttempts/]
  ]
  for (const [options, message] of bad) {
    t.throws(() => webhookCollector(options as WebhookCollectorOptions), { code: 'FST_ANALYTICS_INVALID_OPTION', message }, inspect(options))
  }
  t.equal(decodeWebhookSecret(SECRET).length, 32)
  t.equal(webhookCollector({ url, name: 'audit' }).name, 'audit')
  t.equal(webhookCollector({ url }).name, 'webhook')
})

test('the shipped schema refuses what it should', async (t) => {
  const validate = webhookBodyValidator()
  const good = { id: '6f1c2a4e-3b5d-4c7e-9f10-112233445566', schema: 3, sentAt: '2026-11-27T10:00:00.000Z', events: [eventToJSON(anEvent())] }
  t.ok(validate(good), 'a real body passes')
  t.notOk(validate({ ...good, schema: 2 }), 'the previous schema number')
  t.notOk(validate({ ...good, events: [] }), 'no events')
  t.notOk(validate({ ...good, extra: true }), 'an unknown top-level field')
  t.notOk(validate({ ...good, events: [{ ...good.events[0], revenue: { amount: 29.99, currency: 'GBP' } }] }), 'revenue amount as a float')
  t.ok(validate({ ...good, events: [{ ...good.events[0], properties: { s: 'a', n: 1.5, b: false } }] }), 'string, number and boolean properties')
  t.notOk(validate({ ...good, events: [{ ...good.events[0], properties: { n: null } }] }), 'a null property (what JSON makes of NaN)')
  t.notOk(validate({ ...good, events: [{ ...good.events[0], properties: { n: [1] } }] }), 'an array property')
  t.notOk(validate({ ...good, events: [{ ...good.events[0], type: 'click' }] }), 'an unknown event type')
})

test('fastify-analytics/webhook exports only the public API: the collector, its factory and the documented defaults', async (t) => {
  t.same(Object.keys(webhookPublic).sort(), [
    'DEFAULT_WEBHOOK_BATCH_SIZE', 'DEFAULT_WEBHOOK_CONCURRENCY', 'DEFAULT_WEBHOOK_FLUSH_INTERVAL_MS',
    'DEFAULT_WEBHOOK_MAX_BODY_BYTES', 'DEFAULT_WEBHOOK_NAME', 'DEFAULT_WEBHOOK_TIMEOUT_MS', 'WebhookCollector', 'webhookCollector'
  ].sort())
  t.same({
    name: webhookPublic.DEFAULT_WEBHOOK_NAME,
    maxBatchSize: webhookPublic.DEFAULT_WEBHOOK_BATCH_SIZE,
    flushIntervalMs: webhookPublic.DEFAULT_WEBHOOK_FLUSH_INTERVAL_MS,
    concurrency: webhookPublic.DEFAULT_WEBHOOK_CONCURRENCY,
    timeoutMs: webhookPublic.DEFAULT_WEBHOOK_TIMEOUT_MS,
    maxBodyBytes: webhookPublic.DEFAULT_WEBHOOK_MAX_BODY_BYTES
  }, { name: 'webhook', maxBatchSize: 500, flushIntervalMs: 1000, concurrency: 1, timeoutMs: 15_000, maxBodyBytes: 1024 * 1024 })
})
