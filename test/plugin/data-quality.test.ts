import { test } from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyReply } from 'fastify'
import fastifyStatic from '@fastify/static'
import analytics, { EventType, type SkippedCounters } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { CLIENT_CACHE_SIZE, ClientClassifier } from '../../lib/client.js'
import { logCapture, type TapTest } from '../helpers/collectors.js'

async function build (t: TapTest, options: Record<string, unknown> = {}) {
  const collector = memoryCollector()
  const log = logCapture()
  const app = Fastify({ logger: { level: 'info', stream: log.stream } })
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector], ...options })
  return { app, collector, log }
}

const html = async (_request: unknown, reply: FastifyReply) => reply.type('text/html; charset=utf-8').send('<h1>hi</h1>')
const json = async () => ({ items: [] })

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'
const IPAD = 'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
const SAMSUNG_TV = 'Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36'
const ANDROID_REDUCED = 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36'
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'

async function registering (options: Record<string, unknown>): Promise<void> {
  await Fastify().register(analytics, { collectors: [memoryCollector()], ...options } as never)
}

function skipped (app: { analytics: { stats: () => { events: { skipped: SkippedCounters } } } }): Partial<SkippedCounters> {
  const counts = app.analytics.stats().events.skipped
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0))
}

test('pageViews: \'html\' (default): HTML responses are page views; JSON, assets and text are not, and are counted', async (t) => {
  const { app, collector } = await build(t)
  const dir = await mkdtemp(join(tmpdir(), 'analytics-static-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'style.css'), 'body{}')
  await writeFile(join(dir, 'favicon.ico'), 'ico')
  await writeFile(join(dir, 'about.html'), '<h1>about</h1>')
  await app.register(fastifyStatic, { root: dir, prefix: '/static/' })
  app.get('/', html)
  app.get('/xhtml', async (_request, reply) => reply.type('application/xhtml+xml').send('<html/>'))
  app.get('/api/items', json)
  app.get('/robots.txt', async () => 'User-agent: *')
  app.get('/health', async () => ({ ok: true }))
  app.get('/feed', { config: { analytics: { type: 'pageview' } } }, json)
  for (const url of ['/', '/xhtml', '/api/items', '/robots.txt', '/health', '/feed', '/static/style.css', '/static/favicon.ico', '/static/about.html']) {
    await app.inject({ url, headers: { 'user-agent': CHROME } })
  }
  t.same(collector.events.map((e) => [e.type, e.path]), [
    ['pageview', '/'],
    ['pageview', '/xhtml'],
    ['pageview', '/feed'],
    ['pageview', '/static/about.html']
  ])
  t.same(skipped(app), { notPage: 5 })
})

test('error pages: an HTML 404 or 500 is a page view (broken links matter), a JSON one is not', async (t) => {
  const { app, collector } = await build(t)
  app.get('/boom', async () => { throw new Error('boom') })
  app.get('/api/boom', async () => { throw new Error('boom') })
  app.setErrorHandler(async (error: Error, request, reply) => {
    if (request.url.startsWith('/api/')) return reply.code(500).send({ error: error.message })
    return reply.code(500).type('text/html').send('<h1>Sorry</h1>')
  })
  app.setNotFoundHandler(async (request, reply) => {
    if (request.url.startsWith('/api/')) return reply.code(404).send({ error: 'not found' })
    return reply.code(404).type('text/html').send('<h1>Not found</h1>')
  })
  for (const url of ['/boom', '/api/boom', '/missing', '/api/missing']) await app.inject(url)
  t.same(collector.events.map((e) => [e.path, e.statusCode, e.matchedPattern]), [
    ['/boom', 500, '/boom'],
    ['/missing', 404, '']
  ])
  t.same(skipped(app), { notPage: 2 })
})

test('Fastify\'s default 404 is JSON: no page view; a request that matched no route and is not a GET gives no event', async (t) => {
  for (const pageViews of ['html', 'all'] as const) {
    const { app, collector } = await build(t, { pageViews })
    app.delete('/items/:id', async () => ({ ok: true }))
    await app.inject({ method: 'DELETE', url: '/nothing' })
    await app.inject({ method: 'POST', url: '/wp-login.php' })
    await app.inject({ method: 'DELETE', url: '/items/1' })
    await app.inject('/nowhere')
    const expected = pageViews === 'all'
      ? [['action', 'DELETE /items/:id'], ['pageview', '']]
      : [['action', 'DELETE /items/:id']]
    t.same(collector.events.map((e) => [e.type, e.actionName]), expected, pageViews)
    t.same(skipped(app), pageViews === 'all' ? { noRoute: 2 } : { noRoute: 2, notPage: 1 }, pageViews)
  }
})

test('pageViews: \'all\' makes every GET a page view; true means \'html\'; anything else fails at registration', async (t) => {
  const all = await build(t, { pageViews: 'all' })
  all.app.get('/api/items', json)
  await all.app.inject('/api/items')
  t.same(all.collector.events.map((e) => e.type), ['pageview'])

  const html = await build(t, { pageViews: true })
  html.app.get('/api/items', json)
  await html.app.inject('/api/items')
  t.equal(html.collector.events.length, 0)

  for (const pageViews of ['json', 1, null]) {
    await t.rejects(registering({ pageViews }), { code: 'FST_ANALYTICS_INVALID_OPTION' }, String(pageViews))
  }
  await t.rejects(registering({ bots: 'drop' }), { code: 'FST_ANALYTICS_INVALID_OPTION' })
})

test('bots: \'skip\' (default) drops bots\' automatic events (no User-Agent counts as a bot); their explicit track() is kept, labelled', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', html)
  app.post('/contact', async (request) => {
    request.analytics.track({ type: EventType.Custom, eventName: 'contact.sent' })
    return { ok: true }
  })
  await app.inject({ url: '/', headers: { 'user-agent': GOOGLEBOT } })
  await app.inject({ url: '/', headers: { 'user-agent': '' } })
  await app.inject({ url: '/', headers: { 'user-agent': 'curl/8.5.0' } })
  await app.inject({ method: 'POST', url: '/contact', headers: { 'user-agent': 'python-requests/2.31' } })
  await app.inject({ url: '/', headers: { 'user-agent': CHROME } })
  t.same(collector.events.map((e) => [e.type, e.eventName, e.client.bot, e.client.device]), [
    ['custom', 'contact.sent', true, 'bot'],
    ['pageview', '', false, 'desktop']
  ])
  t.same(skipped(app), { bot: 4 })
})

test('bots: \'label\' keeps every event with client.bot; \'keep\' does no detection', async (t) => {
  const label = await build(t, { bots: 'label' })
  label.app.get('/', html)
  await label.app.inject({ url: '/', headers: { 'user-agent': GOOGLEBOT } })
  await label.app.inject({ url: '/', headers: { 'user-agent': '' } })
  t.same(label.collector.events.map((e) => [e.client.bot, e.client.device]), [[true, 'bot'], [true, 'bot']])

  const keep = await build(t, { bots: 'keep' })
  keep.app.get('/', html)
  await keep.app.inject({ url: '/', headers: { 'user-agent': GOOGLEBOT } })
  t.same(keep.collector.events.map((e) => e.client.bot), [false])
  t.same(skipped(keep.app), {})
})

test('app.inject\'s own User-Agent (lightMyRequest) is a test client, not a bot: users\' analytics tests see their events', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', html)
  await app.inject('/')
  t.equal(collector.events.length, 1)
  t.same(collector.events[0].client, { browser: '', browserVersion: '', os: '', osVersion: '', device: '', bot: false, crawler: null })
})

test('prefetch and prerender give no automatic page view', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', html)
  await app.inject({ url: '/', headers: { 'user-agent': CHROME, 'sec-purpose': 'prefetch' } })
  await app.inject({ url: '/', headers: { 'user-agent': CHROME, 'sec-purpose': 'prefetch;prerender' } })
  await app.inject({ url: '/', headers: { 'user-agent': CHROME, purpose: 'Prefetch' } })
  await app.inject({ url: '/', headers: { 'user-agent': CHROME } })
  t.equal(collector.events.length, 1)
  t.same(skipped(app), { prefetch: 3 })
})

test('ignored: the ignore and classify options, route config false and skip() are counted; the shutdown line reports every skip', async (t) => {
  const { app, collector, log } = await build(t, {
    ignore: (request: { url: string }) => request.url === '/ping',
    classify: (request: { url: string }) => request.url === '/none' ? null : undefined
  })
  app.get('/ping', html)
  app.get('/none', html)
  app.get('/off', { config: { analytics: false } }, html)
  app.get('/skip', async (request, reply) => { request.analytics.skip(); return html(request, reply) })
  app.get('/api', json)
  app.get('/page', html)
  for (const url of ['/ping', '/none', '/off', '/skip', '/api']) await app.inject(url)
  // One of each other reason, so the shutdown line is shown to carry every figure, not zeros.
  await app.inject({ url: '/page', headers: { 'user-agent': 'curl/8.5.0' } })
  await app.inject({ url: '/page', headers: { 'user-agent': CHROME, 'sec-purpose': 'prefetch' } })
  await app.inject({ method: 'POST', url: '/nowhere', headers: { 'user-agent': CHROME } })
  t.equal(collector.events.length, 0)
  t.same(skipped(app), { ignored: 4, notPage: 1, bot: 1, prefetch: 1, noRoute: 1 })
  await app.close()
  const line = log.lines.find((l) => l.msg === 'analytics closed')
  t.match(line, { events: { emitted: 0, skipped: { ignored: 4, notPage: 1, bot: 1, prefetch: 1, noRoute: 1, consent: 0, beforeSend: 0, spam: 0 } } })
})

test('client: browser, OS and device from the User-Agent', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', html)
  for (const agent of [CHROME, IPHONE, IPAD, SAMSUNG_TV]) await app.inject({ url: '/', headers: { 'user-agent': agent } })
  t.same(collector.events.map((e) => e.client), [
    { browser: 'Chrome', browserVersion: '120.0.0.0', os: 'Windows', osVersion: '10', device: 'desktop', bot: false, crawler: null },
    { browser: 'Mobile Safari', browserVersion: '17.1', os: 'iOS', osVersion: '17.1', device: 'mobile', bot: false, crawler: null },
    { browser: 'Mobile Safari', browserVersion: '17.0', os: 'iOS', osVersion: '17.0', device: 'tablet', bot: false, crawler: null },
    { browser: 'Samsung Internet', browserVersion: '4.0', os: 'Tizen', osVersion: '6.0', device: 'tv', bot: false, crawler: null }
  ])
})

test('client: Client Hints name the platform and the mobile experience; unknown platform values are ignored', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', html)
  const linux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
  await app.inject({ url: '/', headers: { 'user-agent': linux, 'sec-ch-ua-platform': '"Chrome OS"', 'sec-ch-ua-mobile': '?0' } })
  await app.inject({ url: '/', headers: { 'user-agent': linux, 'sec-ch-ua-platform': '"<script>"', 'sec-ch-ua-mobile': '?1' } })
  await app.inject({ url: '/', headers: { 'user-agent': ANDROID_REDUCED, 'sec-ch-ua-platform': '"Android"', 'sec-ch-ua-mobile': '?1' } })
  t.same(collector.events.map((e) => [e.client.os, e.client.osVersion, e.client.device]), [
    ['Chrome OS', '', 'desktop'],
    ['Linux', '', 'mobile'],
    ['Android', '10', 'mobile']
  ])
})

test('client: events tracked outside a request have an empty client', async (t) => {
  const { app, collector } = await build(t)
  await app.ready()
  app.analytics.track({ type: EventType.Custom, eventName: 'job.done' })
  t.same(collector.events[0].client, { browser: '', browserVersion: '', os: '', osVersion: '', device: '', bot: false, crawler: null })
})

test('stats() of an inert plugin has the skipped counters too', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [] })
  t.same(app.analytics.stats().events.skipped, { notPage: 0, bot: 0, prefetch: 0, ignored: 0, noRoute: 0, consent: 0, beforeSend: 0, spam: 0 })
})

test('client: the User-Agent cache stays bounded however many distinct agents arrive, and stays right', async (t) => {
  const clients = new ClientClassifier(true)
  for (let i = 0; i < CLIENT_CACHE_SIZE + 500; i++) clients.classify(`${CHROME} Build/${i}`, undefined, undefined)
  t.equal(clients.size, CLIENT_CACHE_SIZE, 'no more than CLIENT_CACHE_SIZE agents held')
  // The first agents were evicted: classified again, from scratch, with the same answer.
  t.same(clients.classify(`${CHROME} Build/0`, undefined, undefined), { browser: 'Chrome', browserVersion: '120.0.0.0', os: 'Windows', osVersion: '10', device: 'desktop', bot: false, crawler: null })
  t.equal(clients.size, CLIENT_CACHE_SIZE)
})
