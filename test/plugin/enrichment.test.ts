import { test } from 'tap'
import Fastify, { type FastifyServerOptions } from 'fastify'
import analytics, { EventType, MAX_FIELD_LENGTH } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { COUNT_EVERYTHING, type TapTest } from '../helpers/collectors.js'

async function build (t: TapTest, fastifyOptions: FastifyServerOptions = {}, options: Record<string, unknown> = {}) {
  const collector = memoryCollector()
  const app = Fastify(fastifyOptions)
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector], ...options })
  return { app, collector }
}

const browserHeaders = {
  'user-agent': 'Mozilla/5.0 (Test)',
  referer: 'https://search.example/?q=shoes',
  'accept-language': 'en-GB,en;q=0.9,fr;q=0.8',
  host: 'shop.example:8443'
}

test('every field of an automatic event comes from the request', async (t) => {
  const { app, collector } = await build(t)
  app.get('/products/:slug', async () => 'ok')
  const before = Date.now()
  await app.inject({ url: '/products/red-shoes?page=2', headers: browserHeaders, remoteAddress: '203.0.113.7' })
  const event = collector.events[0]
  t.match(event, {
    type: 'pageview',
    eventName: '',
    actionName: '',
    clientIP: '203.0.113.7',
    locale: 'en-GB',
    hostname: 'shop.example',
    matchedPattern: '/products/:slug',
    // The default privacy policy keeps campaign parameters only: `page` and `q` do not leave.
    url: 'http://shop.example:8443/products/red-shoes',
    path: '/products/red-shoes',
    method: 'GET',
    userAgent: 'Mozilla/5.0 (Test)',
    referrer: 'https://search.example/',
    statusCode: 200,
    userId: ''
  })
  t.ok(event.durationMs > 0, 'duration is reply.elapsedTime')
  const timestamp = Date.parse(event.timestamp)
  t.ok(timestamp >= before - 5 && timestamp <= Date.now(), 'timestamp is the request start')
})

test('without trustProxy, X-Forwarded-For and X-Forwarded-Proto are ignored', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', async () => 'ok')
  await app.inject({ url: '/', remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': '198.51.100.1', 'x-forwarded-proto': 'https', host: 'a.example' } })
  t.equal(collector.events[0].clientIP, '10.0.0.5')
  t.equal(collector.events[0].url, 'http://a.example/')
})

test('with trustProxy set to the proxy CIDR, the forwarded client IP and protocol are used', async (t) => {
  const { app, collector } = await build(t, { trustProxy: '10.0.0.0/8' })
  app.get('/', async () => 'ok')
  await app.inject({ url: '/', remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': '198.51.100.1', 'x-forwarded-proto': 'https', host: 'a.example' } })
  // A forged hop from an untrusted address is not believed: the client cannot pick its IP.
  await app.inject({ url: '/', remoteAddress: '192.0.2.9', headers: { 'x-forwarded-for': '198.51.100.1', host: 'a.example' } })
  t.equal(collector.events[0].clientIP, '198.51.100.1')
  t.equal(collector.events[0].url, 'https://a.example/')
  t.equal(collector.events[1].clientIP, '192.0.2.9')
})

test('locale: first Accept-Language tag, garbage ignored, the locale option wins', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', async () => 'ok')
  await app.inject({ url: '/', headers: { 'accept-language': 'fr-CA;q=0.9, en' } })
  await app.inject({ url: '/', headers: { 'accept-language': '*' } })
  await app.inject({ url: '/', headers: { 'accept-language': '<script>' } })
  await app.inject({ url: '/', headers: { 'accept-language': 'a'.repeat(100_000) } })
  await app.inject('/')
  t.same(collector.events.map((e) => e.locale), ['fr-CA', '', '', '', ''])

  const custom = await build(t, {}, { locale: (request: { headers: Record<string, string> }) => request.headers['x-locale'] })
  custom.app.get('/', async () => 'ok')
  await custom.app.inject({ url: '/', headers: { 'x-locale': 'de', 'accept-language': 'en' } })
  t.equal(custom.collector.events[0].locale, 'de')
})

test('userId: request.user.id, then .sub, then the option, then setUserId', async (t) => {
  const { app, collector } = await build(t)
  app.decorateRequest('user', null)
  app.addHook('preHandler', async (request) => {
    const header = request.headers['x-user']
    ;(request as unknown as { user: unknown }).user = header === 'id' ? { id: 42 } : header === 'sub' ? { sub: 'auth0|7' } : null
  })
  app.get('/', async () => 'ok')
  app.get('/explicit', async (request) => { request.analytics.setUserId('u-9'); return 'ok' })
  await app.inject({ url: '/', headers: { 'x-user': 'id' } })
  await app.inject({ url: '/', headers: { 'x-user': 'sub' } })
  await app.inject('/')
  await app.inject({ url: '/explicit', headers: { 'x-user': 'id' } })
  t.same(collector.events.map((e) => e.userId), ['42', 'auth0|7', '', 'u-9'])

  const custom = await build(t, {}, { userId: () => 'from-option' })
  custom.app.get('/', async () => 'ok')
  await custom.app.inject('/')
  t.equal(custom.collector.events[0].userId, 'from-option')
})

test('option callbacks that throw leave the field empty and never break the request', async (t) => {
  const { app, collector } = await build(t, {}, {
    locale: () => { throw new Error('locale broke') },
    userId: () => { throw new Error('user broke') },
    classify: () => { throw new Error('classify broke') },
    ignore: () => { throw new Error('ignore broke') }
  })
  app.get('/', async () => 'ok')
  const response = await app.inject('/')
  t.equal(response.statusCode, 200)
  t.match(collector.events[0], { type: 'pageview', locale: '', userId: '' })
})

test('URL, user agent and referrer are cut at 2048 code points without splitting a pair', async (t) => {
  const { app, collector } = await build(t)
  app.get('/*', async () => 'ok')
  const emoji = '😀'.repeat(3000)
  await app.inject({ url: '/' + 'p'.repeat(5000), headers: { 'user-agent': emoji, referer: `https://ref.example/${'r'.repeat(4000)}` } })
  const event = collector.events[0]
  t.equal([...event.userAgent].length, MAX_FIELD_LENGTH)
  t.equal(event.userAgent, '😀'.repeat(MAX_FIELD_LENGTH))
  t.equal(event.referrer.length, MAX_FIELD_LENGTH)
  t.equal(event.url.length, MAX_FIELD_LENGTH)
})

test('a custom event inside a request gets the request fields and a fresh timestamp', async (t) => {
  const { app, collector } = await build(t)
  app.post('/orders/:id', async (request) => {
    request.analytics.track({ type: EventType.Custom, eventName: 'coupon.applied' })
    return 'ok'
  })
  const before = Date.now()
  await app.inject({ method: 'POST', url: '/orders/7?x=1', headers: browserHeaders, remoteAddress: '203.0.113.9' })
  const custom = collector.events.find((e) => e.type === 'custom')
  t.ok(custom)
  t.match(custom, {
    eventName: 'coupon.applied',
    clientIP: '203.0.113.9',
    hostname: 'shop.example',
    locale: 'en-GB',
    matchedPattern: '/orders/:id',
    url: 'http://shop.example:8443/orders/7',
    path: '/orders/7',
    method: 'POST',
    userAgent: 'Mozilla/5.0 (Test)',
    referrer: 'https://search.example/'
  })
  t.ok(Date.parse(custom!.timestamp) >= before - 5)
})

test('explicit fields are kept, only empty ones are filled', async (t) => {
  const { app, collector } = await build(t)
  // Every value differs from what the request (browserHeaders) would give.
  const explicit = {
    clientIP: '192.0.2.1',
    locale: 'ja',
    hostname: 'explicit.example',
    userId: 'explicit-user',
    matchedPattern: '/explicit',
    url: 'https://explicit.example/x',
    path: '/x',
    method: 'PUT',
    userAgent: 'ExplicitAgent',
    referrer: 'https://ref.example/',
    durationMs: 12,
    statusCode: 201
  }
  app.get('/', async (request) => {
    request.analytics.track({ type: EventType.Custom, eventName: 'import', timestamp: new Date('2026-01-02T03:04:05.000Z'), ...explicit })
    return 'ok'
  })
  await app.inject({ url: '/', headers: browserHeaders })
  t.match(collector.events[0], { timestamp: '2026-01-02T03:04:05.000Z', ...explicit })
})

test('the URL drops the scheme\'s default port and keeps any other', async (t) => {
  const { app, collector } = await build(t, { trustProxy: '127.0.0.1' })
  app.get('/', async () => 'ok')
  await app.inject({ url: '/', headers: { host: 'a.example:80' } })
  await app.inject({ url: '/', headers: { host: 'a.example:443', 'x-forwarded-proto': 'https' } })
  await app.inject({ url: '/', headers: { host: 'a.example:443' } })
  await app.inject({ url: '/', headers: { host: '[::1]:80' } })
  t.same(collector.events.map((e) => e.url), ['http://a.example/', 'https://a.example/', 'http://a.example:443/', 'http://[::1]/'])
})

test('a hostile Host header is cut to 255 characters in hostname', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', async () => 'ok')
  await app.inject({ url: '/', headers: { host: 'a'.repeat(10_000) + '.example' } })
  t.equal(collector.events[0].hostname.length, 255)
  t.ok(collector.events[0].url.length <= 2048)
})

test('hostname is the Host without its port, an IPv6 literal kept in brackets, as Fastify gives it', async (t) => {
  const { app, collector } = await build(t, { trustProxy: '127.0.0.1' })
  app.get('/', async () => 'ok')
  const hosts = ['[::1]:3000', '[2001:db8::1]', 'shop.example:8080', 'shop.example', 'xn--bcher-kva.example:443']
  const seen: string[] = []
  app.addHook('onResponse', async (request) => { seen.push(request.hostname) })
  for (const host of hosts) await app.inject({ url: '/', headers: { host } })
  await app.inject({ url: '/', headers: { host: 'inner.example:8443', 'x-forwarded-host': 'outer.example:9443' } })
  const events = collector.events.map((e) => e.hostname)
  t.same(events, ['[::1]', '[2001:db8::1]', 'shop.example', 'shop.example', 'xn--bcher-kva.example', 'outer.example'])
  t.same(events, seen, 'the same as request.hostname, the trusted X-Forwarded-Host included')
})

test('requestHeaders: a collector sees exactly the request headers some collector declared, on automatic and tracked events', async (t) => {
  const seen: Array<Record<string, string>> = []
  const declaring = {
    name: 'tenant',
    requestHeaders: ['X-Tenant'],
    start () {},
    collect (event: Readonly<import('../../lib/index.js').AnalyticsEvent>) { seen.push({ ...event.requestHeaders }) },
    flush () {},
    close () {}
  }
  const other = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [declaring, other] })
  app.get('/', async (request) => {
    request.analytics.track({ type: EventType.Custom, eventName: 'inside' })
    return 'ok'
  })
  await app.ready()
  await app.inject({ url: '/', headers: { 'x-tenant': 'acme', cookie: 'sid=secret', authorization: 'Bearer secret' } })
  await app.inject({ url: '/' })
  app.analytics.track({ type: EventType.Custom, eventName: 'outside' })
  t.same(seen, [{ 'x-tenant': 'acme' }, { 'x-tenant': 'acme' }, {}, {}, {}], 'declared names are matched in lower case; absent headers are absent; outside a request there are none')
  t.equal(other.events.length, 5)
  t.notOk(JSON.stringify(other.events).includes('secret'), 'the undeclared cookie and authorization reach no collector')
})
