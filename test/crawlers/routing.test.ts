// Per-collector routing (the `events` option) through the plugin, to real local servers: GA4 and
// Plausible get no crawler event by default, the warehouse gets every one, in both delivery modes.
import { test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { DuckDBInstance } from '@duckdb/node-api'
import analytics, { FST_ANALYTICS_INVALID_OPTION, type DeliveryMode } from '../../lib/index.js'
import { ga4Collector } from '../../lib/collectors/ga4.js'
import { plausibleCollector } from '../../lib/collectors/plausible.js'
import { duckdbCollector } from '../../lib/collectors/duckdb.js'
import { stdoutCollector } from '../../lib/collectors/stdout.js'
import { memoryCollector } from '../../lib/testing.js'
import { assertBalanced, logCapture, type TapTest } from '../helpers/collectors.js'
import { ok, startSink, type Sink } from '../helpers/sink.js'
import { validateGa4Request } from '../servers/ga4-rules.js'
import { plausibleRules } from '../servers/plausible-rules.js'

const START_TIMEOUT_MS = 60_000
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
const GPTBOT = 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.1; +https://openai.com/gptbot)'

function ga4Events (sink: Sink): Array<Record<string, any>> {
  return sink.requests.flatMap((request) => (JSON.parse(request.body.toString()) as { events: Array<Record<string, any>> }).events)
}

async function rows (path: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.fromCache(path)
  const connection = await instance.connect()
  try {
    return (await connection.runAndReadAll('SELECT path, client_bot, client_crawler_name, client_crawler_operator, client_crawler_purpose, client_crawler_verified FROM analytics_events ORDER BY timestamp, path')).getRowObjectsJS() as Array<Record<string, unknown>>
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

async function route (t: TapTest, delivery: DeliveryMode): Promise<void> {
  const ga4 = await startSink({ validate: validateGa4Request, policy: ok(204) })
  const plausible = await startSink({ validate: plausibleRules({ domain: 'shop.example' }), policy: ok(202, 'ok') })
  const plausibleAll = await startSink({ validate: plausibleRules({ domain: 'shop.example' }), policy: ok(202, 'ok') })
  t.teardown(() => Promise.all([ga4.close(), plausible.close(), plausibleAll.close()]))
  const dir = mkdtempSync(join(tmpdir(), 'fa-crawlers-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'events.duckdb')
  const app = Fastify({ pluginTimeout: START_TIMEOUT_MS, logger: { level: 'info', stream: logCapture().stream } })
  t.teardown(() => app.close())
  await app.register(analytics, {
    bots: 'label',
    delivery,
    startTimeoutMs: START_TIMEOUT_MS,
    collectors: [
      ga4Collector({ measurementId: 'G-ROUTING1', apiSecret: 'routing-secret', endpoint: ga4.origin, flushIntervalMs: 10 }),
      plausibleCollector({ domain: 'shop.example', baseUrl: plausible.origin }),
      // The shorthand overrides the default: this one takes crawlers, page views only.
      plausibleCollector({ name: 'plausible-all', domain: 'shop.example', baseUrl: plausibleAll.origin, events: { bots: true, types: ['pageview'] } }),
      duckdbCollector({ path, ip: 'full', flushIntervalMs: 10 })
    ]
  })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<p>home</p>'))
  app.post('/buy', { config: { analytics: { action: 'buy' } } }, async () => 'ok')
  await app.ready()
  const human = { 'user-agent': CHROME, host: 'shop.example' }
  await app.inject({ method: 'GET', url: '/', headers: human, remoteAddress: '203.0.113.10' })
  await app.inject({ method: 'POST', url: '/buy', headers: human, remoteAddress: '203.0.113.10' })
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': GOOGLEBOT, host: 'shop.example' }, remoteAddress: '66.249.66.1' })
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': GPTBOT, host: 'shop.example' }, remoteAddress: '203.0.113.99' })
  await app.analytics.flush({ timeoutMs: 20_000 })
  await app.close()
  const stats = app.analytics.stats()
  assertBalanced(t, stats.collectors)
  t.same(ga4.violations, [])
  t.same(plausible.violations, [])
  t.same(ga4Events(ga4).map((event) => event.name).sort(), ['buy', 'page_view'], 'GA4: the person\'s page view and action, no crawler')
  t.equal(plausible.requests.length, 2, 'Plausible: the person\'s two events, no crawler')
  t.equal(plausibleAll.requests.length, 3, '{ bots: true, types: [\'pageview\'] }: the three page views, crawlers included, no action')
  t.match(stats.collectors, {
    ga4: { accepted: 2, delivered: 2 },
    plausible: { accepted: 2, delivered: 2 },
    'plausible-all': { accepted: 3, delivered: 3 },
    duckdb: { accepted: 4, delivered: 4 }
  }, 'events a collector does not take are not counted against it')
  const stored = await rows(path)
  t.equal(stored.length, 4, 'the warehouse has every event')
  t.same(stored.filter((row) => row.client_bot === true).map(({ client_crawler_name: name, client_crawler_operator: operator, client_crawler_purpose: purpose, client_crawler_verified: verified }) => ({ name, operator, purpose, verified })), [
    { name: 'Googlebot', operator: 'Google', purpose: 'search', verified: true },
    { name: 'GPTBot', operator: 'OpenAI', purpose: 'ai-training', verified: false }
  ], 'the crawler columns: the verified Googlebot and the spoofed GPTBot')
  t.match(stats.events.crawlers, { requests: 2, spoofed: 1, byPurpose: { search: 1, 'ai-training': 0 }, byName: { Googlebot: 1 }, spoofedByName: { GPTBot: 1 } })
}

test('bots: \'label\', inline: GA4 and Plausible get no crawler event, the warehouse gets them all with their crawler', async (t) => {
  await route(t, 'inline')
})

test('bots: \'label\', delivery: \'worker\': the same routing and counts (the shorthand crosses to the worker)', async (t) => {
  await route(t, 'worker')
})

test('a function for events keeps that collector on the request thread in worker mode, and is obeyed', async (t) => {
  const lines: string[] = []
  const app = Fastify({ pluginTimeout: START_TIMEOUT_MS, logger: { level: 'info', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  const dir = mkdtempSync(join(tmpdir(), 'fa-crawlers-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await app.register(analytics, {
    bots: 'label',
    delivery: 'worker',
    startTimeoutMs: START_TIMEOUT_MS,
    collectors: [stdoutCollector({ destination: join(dir, 'lines.ndjson'), events: (event) => event.client.crawler?.purpose === 'ai-training' })]
  })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<p>home</p>'))
  await app.ready()
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': CHROME } })
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': GPTBOT } })
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': GOOGLEBOT } })
  await app.close()
  t.ok(lines.some((line) => line.includes('runs on the request thread') && line.includes('events')), 'said once at registration, naming the option')
  t.match(app.analytics.stats().collectors.stdout, { accepted: 1, delivered: 1 })
})

test('the events option is checked at registration', async (t) => {
  const bad: unknown[] = [null, 'bots', [], { bots: 'no' }, { types: [] }, { types: ['page_view'] }, { typo: true }]
  for (const events of bad) {
    t.throws(() => plausibleCollector({ domain: 'shop.example', events: events as never }), FST_ANALYTICS_INVALID_OPTION, JSON.stringify(events))
  }
  t.doesNotThrow(() => stdoutCollector({ events: { types: ['action', 'custom'] } }))
})

test('a custom collector gets the same routing by implementing wants (eventsFilter); a filter that throws counts the event failed', async (t) => {
  const { eventsFilter, NO_BOT_EVENTS } = await import('../../lib/index.js')
  const people = Object.assign(memoryCollector({ name: 'people' }), { wants: eventsFilter(undefined, NO_BOT_EVENTS) })
  const broken = Object.assign(memoryCollector({ name: 'broken' }), { wants: () => { throw new Error('filter bug') } })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { bots: 'label', collectors: [people, broken] })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<p>home</p>'))
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': CHROME } })
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': GPTBOT } })
  t.equal(people.events.length, 1)
  t.equal(people.events[0].client.crawler, null)
  const stats = app.analytics.stats().collectors
  t.match(stats.people, { accepted: 1 })
  t.match(stats.broken, { accepted: 2, dropped: { failed: 2 } })
  t.equal(broken.events.length, 0)
})

test('eventsFilter: the shorthand\'s keys and the collector\'s default combine', async (t) => {
  const { eventsFilter, EVERY_EVENT, NO_BOT_EVENTS } = await import('../../lib/index.js')
  const { createEvent } = await import('../../lib/event.js')
  const { parseUserAgent } = await import('../../lib/client.js')
  const make = (type: 'pageview' | 'action' | 'custom', ua: string) => Object.assign(createEvent(type, new Date()), { client: parseUserAgent(ua, true) })
  const events = [make('pageview', CHROME), make('action', CHROME), make('pageview', GPTBOT), make('custom', GPTBOT)]
  const taken = (filter: ReturnType<typeof eventsFilter>): boolean[] => events.map((event) => filter === undefined || filter(event))
  t.equal(eventsFilter(undefined, EVERY_EVENT), undefined, 'every event: no filter at all, the fan-out asks nothing')
  t.same(taken(eventsFilter(undefined, NO_BOT_EVENTS)), [true, true, false, false])
  t.same(taken(eventsFilter({ types: ['pageview'] }, NO_BOT_EVENTS)), [true, false, false, false], 'types, and the default\'s bots: false')
  t.same(taken(eventsFilter({ types: ['pageview'] }, EVERY_EVENT)), [true, false, true, false])
  t.same(taken(eventsFilter({ bots: false }, EVERY_EVENT)), [true, true, false, false])
  t.same(taken(eventsFilter({ bots: true }, NO_BOT_EVENTS)), [true, true, true, true])
  t.same(taken(eventsFilter((event: { type: string }) => event.type === 'custom')), [false, false, false, true], 'a function replaces the default')
})

test('delivery: \'worker\' with the pipeline in the worker: crawlers named there, routed there, counted through the snapshot', async (t) => {
  const { webhookCollector } = await import('../../lib/collectors/webhook.js')
  const { webhookRules } = await import('../servers/webhook-rules.js')
  const ga4 = await startSink({ validate: validateGa4Request, policy: ok(204) })
  const hook = await startSink({ validate: webhookRules({ path: '/hook' }), policy: ok(200) })
  t.teardown(() => Promise.all([ga4.close(), hook.close()]))
  const app = Fastify({ pluginTimeout: START_TIMEOUT_MS, trustProxy: true })
  t.teardown(() => app.close())
  await app.register(analytics, {
    bots: 'label',
    delivery: 'worker',
    startTimeoutMs: START_TIMEOUT_MS,
    collectors: [
      ga4Collector({ measurementId: 'G-ROUTING1', apiSecret: 'routing-secret', endpoint: ga4.origin, flushIntervalMs: 10 }),
      webhookCollector({ url: `${hook.origin}/hook`, flushIntervalMs: 10 })
    ]
  })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<p>home</p>'))
  await app.ready()
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': CHROME, 'x-forwarded-for': '203.0.113.10' } })
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': GOOGLEBOT, 'x-forwarded-for': '2001:4860:4801:10::1' } })
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': GOOGLEBOT, 'x-forwarded-for': '203.0.113.99' } })
  await app.analytics.flush({ timeoutMs: 20_000 })
  const stats = app.analytics.stats()
  await app.close()
  assertBalanced(t, app.analytics.stats().collectors)
  t.same([ga4.violations, hook.violations], [[], []])
  t.equal(ga4Events(ga4).length, 1, 'GA4: the person only (its filter ran in the worker)')
  const received = hook.requests.flatMap((request) => (JSON.parse(request.body.toString()) as { events: Array<Record<string, any>> }).events)
  t.same(received.map((event) => event.client.crawler), [
    null,
    { name: 'Googlebot', operator: 'Google', purpose: 'search', verified: true },
    { name: 'Googlebot', operator: 'Google', purpose: 'search', verified: false }
  ], 'the webhook: every event, the crawler named and checked in the worker (IPv6 through trustProxy)')
  t.match(stats.collectors, { ga4: { accepted: 1 }, webhook: { accepted: 3 } })
  t.match(stats.events.crawlers, { requests: 2, spoofed: 1, byName: { Googlebot: 1 }, spoofedByName: { Googlebot: 1 }, byPurpose: { search: 1 } }, 'the worker\'s crawler counts reach stats()')
})

test('memoryCollector takes the events option too', async (t) => {
  const people = memoryCollector({ name: 'people', events: { bots: false } })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { bots: 'label', collectors: [people, memoryCollector()] })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<p>home</p>'))
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': CHROME } })
  await app.inject({ method: 'GET', url: '/', headers: { 'user-agent': GPTBOT } })
  t.equal(people.events.length, 1)
  t.match(app.analytics.stats().collectors, { people: { accepted: 1 }, memory: { accepted: 2 } })
})
