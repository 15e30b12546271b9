// Worker delivery through the public API: the built-in collectors run in a worker thread, real
// local servers stand in for the destinations, and what users see (stats, logs, lifecycle) is the
// same as inline.
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { test } from 'tap'
import { Agent } from 'undici'
import Fastify, { type FastifyInstance } from 'fastify'
import analytics, { EventType, Money, type AnalyticsCollector, type CollectorStats } from '../../lib/index.js'
import { ga4Collector } from '../../lib/collectors/ga4.js'
import { plausibleCollector } from '../../lib/collectors/plausible.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { memoryCollector } from '../../lib/testing.js'
import { assertBalanced, COUNT_EVERYTHING, logCapture, type TapTest } from '../helpers/collectors.js'
import { ok, startSink } from '../helpers/sink.js'
import { validateGa4Request } from '../servers/ga4-rules.js'
import { webhookRules } from '../servers/webhook-rules.js'
import { plausibleRules } from '../servers/plausible-rules.js'
import { fragileCollector } from './fixtures/fragile-collector.js'
import { MAX_CHANNEL_EVENTS } from '../../lib/worker/host.js'
import { waitUntil } from '../helpers/timing.js'

const SECRET = 'workerModeApiSecret99'
const WEBHOOK_TOKEN = 'workerModeBearer42'
// The worker compiles the TypeScript sources on its own under tap: slow on a loaded machine.
const START_TIMEOUT_MS = 60_000

/** A registered (not yet ready) app delivering in the worker, its log captured. */
async function workerApp (t: TapTest, collectors: AnalyticsCollector[]): Promise<{ app: FastifyInstance, log: ReturnType<typeof logCapture> }> {
  const log = logCapture()
  const app = Fastify({ pluginTimeout: START_TIMEOUT_MS, logger: { level: 'info', stream: log.stream } })
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, delivery: 'worker', startTimeoutMs: START_TIMEOUT_MS, collectors })
  return { app, log }
}

test('worker mode: every event reaches GA4, Plausible and the webhook, the accounting balances, and custom collectors run inline beside them', async (t) => {
  const ga4 = await startSink({ validate: validateGa4Request, policy: ok(204) })
  const plausible = await startSink({ validate: plausibleRules({ domain: 'shop.example' }), policy: ok(202, 'ok') })
  const hook = await startSink({ validate: webhookRules({ path: '/hook' }), policy: ok(200) })
  t.teardown(() => Promise.all([ga4.close(), plausible.close(), hook.close()]))
  const memory = memoryCollector()
  const { app, log } = await workerApp(t, [
    ga4Collector({ measurementId: 'G-WORKER1', apiSecret: SECRET, endpoint: ga4.origin, flushIntervalMs: 10 }),
    memory,
    plausibleCollector({ domain: 'shop.example', baseUrl: plausible.origin }),
    webhookCollector({ url: `${hook.origin}/hook`, headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` }, flushIntervalMs: 10 })
  ])
  app.get('/p/:id', async () => 'page')
  app.post('/buy', { config: { analytics: { action: 'buy' } } }, async (request) => {
    request.analytics.setRevenue(Money.fromMinor(2999, 'GBP'))
    request.analytics.addProperty('__proto__', 'data')
    return 'ok'
  })
  await app.ready()
  const N = 40
  for (let i = 0; i < N; i++) {
    await app.inject({ method: i % 2 === 0 ? 'GET' : 'POST', url: i % 2 === 0 ? `/p/${i}` : '/buy', headers: { 'user-agent': 'Mozilla/5.0', cookie: '_ga=GA1.1.1234567890.1700000000; sid=app-session' } })
  }
  app.analytics.track({ type: EventType.Custom, eventName: 'job.done' })
  await app.analytics.flush()
  const stats = app.analytics.stats().collectors
  t.equal(stats.ga4.delivered, N + 1, 'GA4 delivered every event by the end of flush()')
  t.equal(stats.webhook.delivered, N + 1, 'the webhook delivered every event')
  t.equal(stats.plausible.delivered + stats.plausible.dropped.invalid, N + 1, 'Plausible delivered every event it can send (an event without a URL is invalid there)', { stats: stats.plausible })
  t.equal(memory.events.length, N + 1, 'the custom collector ran inline and saw every event')

  const webhookEvents = hook.requests.flatMap((r) => (JSON.parse(r.body.toString()) as { events: Array<Record<string, unknown>> }).events)
  t.equal(webhookEvents.length, N + 1)
  const bought = webhookEvents.find((e) => e.type === 'action') as { revenue: unknown, properties: Record<string, string> }
  t.same(bought.revenue, { amount: '29.99', currency: 'GBP' }, 'revenue survives the hand-over')
  t.equal(Object.getOwnPropertyDescriptor(bought.properties, '__proto__')?.value, 'data', 'a __proto__ property stays data across the thread')
  const ga4Body = ga4.requests.map((r) => r.body.toString()).join('\n')
  t.match(ga4Body, /"client_id":"1234567890\.1700000000"/, 'the _ga cookie reached the worker: GA4 used its client id')
  t.same([...ga4.violations, ...plausible.violations, ...hook.violations], [], 'no destination rule broken')

  await app.close()
  assertBalanced(t, app.analytics.stats().collectors)
  const text = log.text()
  t.notMatch(text, SECRET, 'the GA4 secret never shows in a log line')
  t.notMatch(text, WEBHOOK_TOKEN, 'the webhook token never shows in a log line')
  t.notMatch(JSON.stringify(app.analytics.stats()), SECRET)
  t.match(log.lines.find((l) => l.collector === 'ga4' && l.msg === 'analytics collector closed'), { delivered: N + 1 }, 'the close summary is the same line as inline')
})

test('worker mode: every field of every event crosses the thread: the webhook in the worker writes what a collector inline sees', async (t) => {
  const hook = await startSink({ validate: webhookRules({ path: '/hook' }), policy: ok(200) })
  t.teardown(() => hook.close())
  const memory = memoryCollector()
  const { app } = await workerApp(t, [memory, webhookCollector({ url: `${hook.origin}/hook`, ip: 'full', flushIntervalMs: 10 })])
  app.get('/p/:id', async (request, reply) => {
    request.analytics.setUserId('user-7')
    request.analytics.addProperty('plan', 'pro')
    request.analytics.addProperty('__proto__', 'data')
    return await reply.type('text/html').send('<p>page</p>')
  })
  app.post('/buy', { config: { analytics: { action: 'buy' } } }, async (request) => {
    request.analytics.setRevenue(Money.fromMinor(123456789012345678901234567890n, 'JPY'))
    return 'ok'
  })
  await app.ready()
  const headers = {
    'user-agent': 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
    'sec-ch-ua-mobile': '?1',
    'accept-language': 'fr-CH, fr;q=0.9',
    referer: 'https://search.example/?q=shoes&utm_source=news',
    'x-forwarded-for': '203.0.113.9'
  }
  await app.inject({ method: 'GET', url: '/p/1?utm_campaign=winter&token=secret', headers })
  await app.inject({ method: 'POST', url: '/buy', headers })
  app.analytics.track({ type: EventType.Custom, eventName: 'job.done', timestamp: new Date('2030-01-02T03:04:05.678Z'), properties: { n: 3 } })
  await app.analytics.flush()
  const sent = hook.requests.flatMap((r) => (JSON.parse(r.body.toString()) as { events: Array<{ id: string }> }).events)
  t.equal(sent.length, 3)
  for (const seen of memory.events) {
    t.same(sent.find((e) => e.id === seen.id), seen, `${seen.type} ${seen.eventName || seen.actionName || seen.path}: the same event on both threads`)
  }
  t.equal(memory.events[0].client.device, 'mobile', 'the client classification crossed')
  t.same(hook.violations, [])
})

test('worker mode: a collector whose options cannot cross a thread stays inline and says so at registration', async (t) => {
  const hook = await startSink({ policy: ok(200) })
  const agent = new Agent()
  t.teardown(async () => { await hook.close(); await agent.close() })
  const { app, log } = await workerApp(t, [webhookCollector({ url: hook.origin, dispatcher: agent, flushIntervalMs: 10 })])
  await app.ready()
  const line = log.lines.find((l) => l.collector === 'webhook' && typeof l.reason === 'string')
  t.match(line, { reason: /dispatcher/ }, 'the log names the option that keeps it inline')
  await app.inject('/nowhere')
  await app.analytics.flush()
  t.equal(app.analytics.stats().collectors.webhook.delivered, 1, 'it still delivers, inline')
})

test('worker mode: a start failure in the worker fails ready() with FST_ANALYTICS_START_FAILED naming the collector', async (t) => {
  const { app } = await workerApp(t, [fragileCollector({ name: 'ok' }), fragileCollector({ name: 'broken', fail: 'start' })])
  await t.rejects(async () => { await app.ready() }, { code: 'FST_ANALYTICS_START_FAILED', message: /"broken".*fragile start failed on purpose/ })
})

test('worker mode: a worker that crashes is restarted, and every event it held is counted failed, never lost', async (t) => {
  const { app, log } = await workerApp(t, [fragileCollector({ name: 'fragile' })])
  await app.ready()
  for (let i = 0; i < 5; i++) app.analytics.track({ type: EventType.Custom, eventName: 'before' })
  app.analytics.track({ type: EventType.Custom, eventName: 'crash' })
  const deadline = Date.now() + 20_000
  while (app.analytics.stats().collectors.fragile.dropped.failed === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  t.match(app.analytics.stats().collectors.fragile, { accepted: 6, delivered: 0, queued: 0, inFlight: 0, dropped: { failed: 6 } }, 'the six events the dead worker held are counted failed')
  t.ok(log.lines.some((l) => /stopped unexpectedly.*restarting/.test(String(l.msg))), 'the crash is reported')
  // The restarted worker takes new events.
  for (let i = 0; i < 3; i++) app.analytics.track({ type: EventType.Custom, eventName: 'after' })
  await app.analytics.flush({ timeoutMs: 20_000 })
  t.match(app.analytics.stats().collectors.fragile, { accepted: 9, delivered: 3 }, 'the restarted worker delivers')
  await app.close()
  assertBalanced(t, app.analytics.stats().collectors)
})

test('worker mode: a collector that throws in collect() in the worker: counted failed, logged through the app logger with its name, rate-limited', async (t) => {
  const { app, log } = await workerApp(t, [fragileCollector({ name: 'thrower' })])
  await app.ready()
  for (let i = 0; i < 20; i++) app.analytics.track({ type: EventType.Custom, eventName: 'throw' })
  app.analytics.track({ type: EventType.Custom, eventName: 'fine' })
  await app.analytics.flush({ timeoutMs: 20_000 })
  t.match(app.analytics.stats().collectors.thrower, { accepted: 21, delivered: 1, dropped: { failed: 20 } })
  const lines = log.lines.filter((l) => l.msg === 'analytics collector threw in collect()')
  t.equal(lines.length, 1, 'one line for twenty throws (rate-limited)')
  t.match(lines[0], { plugin: 'analytics', collector: 'thrower', err: { message: 'fragile collect threw on purpose' } }, 'written by the app logger with the collector bindings')
  await app.close()
  assertBalanced(t, app.analytics.stats().collectors)
})

// Both module formats: the CommonJS build cannot read import.meta, so it finds its worker and the
// collectors' modules through its own lib/location.js (scripts/build.mjs).
const requireFromHere = createRequire(import.meta.url)
const publishedBuilds = {
  ESM: async () => ({ plugin: (await import('fastify-analytics')).default, webhook: (await import('fastify-analytics/webhook')).webhookCollector }),
  CommonJS: async () => ({
    plugin: (requireFromHere('fastify-analytics') as typeof import('fastify-analytics')).default,
    webhook: (requireFromHere('fastify-analytics/webhook') as typeof import('fastify-analytics/webhook')).webhookCollector
  })
}

for (const [format, load] of Object.entries(publishedBuilds)) {
  test(`worker mode from the published ${format} build: the compiled worker (no TypeScript loader, empty execArgv) delivers`, async (t) => {
    // Through the package name, so Node resolves dist/ (built by tap.config.ts) as users get it.
    const { plugin, webhook } = await load()
    if (format === 'CommonJS') t.match(requireFromHere.resolve('fastify-analytics'), /\/dist\/cjs\/lib\//, 'require() resolves to the CommonJS build')
    const hook = await startSink({ policy: ok(200) })
    t.teardown(() => hook.close())
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(plugin, { ...COUNT_EVERYTHING, delivery: 'worker', collectors: [webhook({ url: hook.origin, flushIntervalMs: 10 })] })
    await app.ready()
    for (let i = 0; i < 5; i++) await app.inject(`/p/${i}`)
    await app.analytics.flush()
    t.equal(hook.requests.flatMap((r) => (JSON.parse(r.body.toString()) as { events: unknown[] }).events).length, 5, 'the sink got every event')
    await app.close()
    assertBalanced(t, app.analytics.stats().collectors)
  })
}

test('worker mode: a revenue with more digits than an app can type (a bigint Money) crosses intact and the worker lives on', async (t) => {
  const hook = await startSink({ policy: ok(200) })
  t.teardown(() => hook.close())
  const { app } = await workerApp(t, [webhookCollector({ url: hook.origin, flushIntervalMs: 10 })])
  await app.ready()
  const huge = Money.fromMinor(-611949884101521610105718906601n, 'JPY') // MAX_MONEY_DIGITS digits
  app.analytics.track({ type: EventType.Custom, eventName: 'huge', revenue: huge })
  app.analytics.track({ type: EventType.Custom, eventName: 'after', revenue: Money.fromMinor(5, 'KWD') })
  await app.analytics.flush({ timeoutMs: 20_000 })
  const events = hook.requests.flatMap((r) => (JSON.parse(r.body.toString()) as { events: Array<{ eventName: string, revenue: unknown }> }).events)
  t.same(events.map((e) => [e.eventName, e.revenue]), [['huge', huge.toJSON()], ['after', { amount: '0.005', currency: 'KWD' }]], 'both delivered, amounts exact')
  await app.close()
  t.match(app.analytics.stats().collectors.webhook, { accepted: 2, delivered: 2, dropped: { failed: 0 } })
})

test('worker mode: the channel to a worker that cannot keep up is bounded; what it refuses is counted queueFull and logged', async (t) => {
  const gate = t.testdir()
  const { app, log } = await workerApp(t, [fragileCollector({ name: 'slow', gate })])
  await app.ready()
  app.analytics.track({ type: EventType.Custom, eventName: 'block' })
  // The worker thread holds "block" until released below, however long the flood takes.
  await waitUntil(() => existsSync(join(gate, 'blocked')), 'the worker to hold "block"')
  const extra = 1000
  for (let i = 0; i < MAX_CHANNEL_EVENTS + extra; i++) app.analytics.track({ type: EventType.Custom, eventName: 'flood' })
  const during = app.analytics.stats().collectors.slow
  t.ok(during.dropped.queueFull >= extra, `at least ${extra} refused at the bound (${during.dropped.queueFull})`)
  t.ok(during.queued <= MAX_CHANNEL_EVENTS, `never more than ${MAX_CHANNEL_EVENTS} waiting (${during.queued})`)
  t.ok(log.lines.some((l) => /channel to it is full/.test(String(l.msg))), 'the overflow is logged')
  writeFileSync(join(gate, 'release'), '')
  await app.close()
  const after = app.analytics.stats().collectors.slow
  t.equal(after.accepted, MAX_CHANNEL_EVENTS + extra + 1, 'every event was accepted')
  t.equal(after.delivered + after.dropped.queueFull, after.accepted, 'each one delivered or counted queueFull')
  assertBalanced(t, app.analytics.stats().collectors)
})

test('worker mode: stats() moves with delivery, not with a timer: a batch shows in flight by the time the destination holds it, and as shutdown after the close deadline', async (t) => {
  // eslint-disable-next-line prefer-const -- the sink's handler below reads it before it is assigned
  let app: FastifyInstance | undefined
  let seen: CollectorStats | undefined
  // The first batch is answered (the connection is then open, so the second arrives within a
  // millisecond or so of leaving the worker's queue); the second is read at the moment it arrives,
  // on this thread, while the worker waits for the answer.
  const hook = await startSink({
    validate: webhookRules({ path: '/hook' }),
    policy: (_request, index) => {
      if (index === 0) return { kind: 'respond', status: 200 }
      seen ??= app?.analytics.stats().collectors.webhook
      return { kind: 'hang' }
    }
  })
  t.teardown(() => hook.close())
  app = Fastify({ pluginTimeout: START_TIMEOUT_MS })
  t.teardown(() => app?.close())
  // A batch of three leaves as soon as it is full; the 60 s interval never fires.
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    delivery: 'worker',
    startTimeoutMs: START_TIMEOUT_MS,
    shutdownTimeoutMs: 300,
    collectors: [webhookCollector({ url: `${hook.origin}/hook`, maxBatchSize: 3, flushIntervalMs: 60_000, timeoutMs: 30_000 })]
  })
  await app.ready()
  for (let i = 0; i < 3; i++) app.analytics.track({ type: EventType.Custom, eventName: 'sent' })
  await app.analytics.flush({ timeoutMs: 20_000 })
  t.match(app.analytics.stats().collectors.webhook, { accepted: 3, delivered: 3, queued: 0, inFlight: 0 }, 'exact once flush() has resolved')
  for (let i = 0; i < 3; i++) app.analytics.track({ type: EventType.Custom, eventName: 'held' })
  await hook.waitForRequests(2, 20_000)
  t.match(seen, { accepted: 6, delivered: 3, queued: 0, inFlight: 3 }, 'the destination has the batch: stats() says in flight, not queued')
  await app.close()
  t.match(app.analytics.stats().collectors.webhook, { accepted: 6, delivered: 3, queued: 0, inFlight: 0, dropped: { shutdown: 3 } }, 'held by the destination at the deadline: shutdown')
  assertBalanced(t, app.analytics.stats().collectors)
})
