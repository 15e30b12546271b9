import { test } from 'tap'
import Fastify, { type FastifyReply } from 'fastify'
import analytics, { EventType } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import type { TapTest } from '../helpers/collectors.js'

// An HTML page: under the default `pageViews: 'html'`, only HTML responses are page views.
const page = async (_request: unknown, reply: FastifyReply) => reply.type('text/html').send('<p>ok</p>')

async function build (t: TapTest, options: Record<string, unknown> = {}) {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector], ...options })
  return { app, collector }
}

test('GET is a page view, mutating methods are actions named "<METHOD> <pattern>"', async (t) => {
  const { app, collector } = await build(t)
  app.get('/items/:id', page)
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    app.route({ method, url: '/items/:id', handler: async () => 'ok' })
  }
  await app.inject('/items/1')
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) await app.inject({ method, url: '/items/2' })
  t.same(collector.events.map((e) => [e.type, e.actionName, e.matchedPattern]), [
    ['pageview', '', '/items/:id'],
    ['action', 'POST /items/:id', '/items/:id'],
    ['action', 'PUT /items/:id', '/items/:id'],
    ['action', 'PATCH /items/:id', '/items/:id'],
    ['action', 'DELETE /items/:id', '/items/:id']
  ])
})

test('HEAD and OPTIONS make no event', async (t) => {
  const { app, collector } = await build(t)
  app.get('/', page)
  app.options('/', async () => 'ok')
  await app.inject({ method: 'HEAD', url: '/' })
  await app.inject({ method: 'OPTIONS', url: '/' })
  t.equal(collector.events.length, 0)
})

test('with pageViews: \'all\', a 404 is a page view with an empty pattern', async (t) => {
  const { app, collector } = await build(t, { pageViews: 'all' })
  await app.inject('/nowhere?x=1')
  t.equal(collector.events.length, 1)
  t.match(collector.events[0], { type: 'pageview', statusCode: 404, matchedPattern: '', path: '/nowhere' })
})

test('route config: false, { type }, { action }', async (t) => {
  const { app, collector } = await build(t)
  app.get('/health', { config: { analytics: false } }, async () => 'ok')
  app.post('/search', { config: { analytics: { type: 'pageview' } } }, async () => 'ok')
  app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async () => 'ok')
  app.get('/export', { config: { analytics: { type: 'action' } } }, async () => 'ok')
  await app.inject('/health')
  await app.inject({ method: 'POST', url: '/search' })
  await app.inject({ method: 'POST', url: '/checkout' })
  await app.inject('/export')
  t.same(collector.events.map((e) => [e.type, e.actionName, e.path]), [
    ['pageview', '', '/search'],
    ['action', 'checkout', '/checkout'],
    ['action', 'GET /export', '/export']
  ])
})

test('an invalid route config fails at route registration', async (t) => {
  const { app } = await build(t)
  t.throws(() => app.get('/x', { config: { analytics: { type: 'custom' } as never } }, async () => 'ok'), { code: 'FST_ANALYTICS_INVALID_OPTION' })
  t.throws(() => app.get('/y', { config: { analytics: { action: '' } } }, async () => 'ok'), { code: 'FST_ANALYTICS_INVALID_OPTION' })
  t.throws(() => app.get('/z', { config: { analytics: { bogus: 1 } as never } }, async () => 'ok'), { code: 'FST_ANALYTICS_INVALID_OPTION' })
})

test('route config that does not type-check is refused at run time too: true, null, {} (issue 26: JavaScript apps got the default silently)', async (t) => {
  const { app } = await build(t)
  for (const [path, value, message] of [
    ['/true', true, /must be false or an object like/],
    ['/null', null, /must be false or an object like/],
    ['/empty', {}, /names neither a type nor an action/],
    ['/string', 'pageview', /must be false or an object like/]
  ] as const) {
    t.throws(() => app.get(path, { config: { analytics: value as never } }, async () => 'ok'), { code: 'FST_ANALYTICS_INVALID_OPTION', message }, JSON.stringify(value))
  }
  t.doesNotThrow(() => app.get('/default', { config: {} }, async () => 'ok'), 'no analytics key is the default')
})

test('pageViews: false and actions: false turn each kind off', async (t) => {
  const { app, collector } = await build(t, { pageViews: false })
  app.get('/', page)
  app.post('/', async () => 'ok')
  await app.inject('/')
  await app.inject({ method: 'POST', url: '/' })
  t.same(collector.events.map((e) => e.type), ['action'])

  const second = await build(t, { actions: false })
  second.app.get('/', page)
  second.app.post('/', async () => 'ok')
  await second.app.inject('/')
  await second.app.inject({ method: 'POST', url: '/' })
  t.same(second.collector.events.map((e) => e.type), ['pageview'])
})

test('classify overrides the default; null means no event, undefined keeps the default', async (t) => {
  const { app, collector } = await build(t, {
    classify: (request: { url: string }) => request.url === '/none' ? null : request.url === '/as-action' ? EventType.Action : undefined
  })
  app.get('/none', page)
  app.get('/as-action', page)
  app.get('/default', page)
  await app.inject('/none')
  await app.inject('/as-action')
  await app.inject('/default')
  t.same(collector.events.map((e) => [e.type, e.path]), [['action', '/as-action'], ['pageview', '/default']])
})

test('ignore skips the automatic event; skip() does it per request', async (t) => {
  const { app, collector } = await build(t, { ignore: (request: { url: string }) => request.url === '/ping' })
  app.get('/ping', async () => 'pong')
  app.get('/private', async (request, reply) => { request.analytics.skip(); return reply.type('text/html').send('ok') })
  app.get('/public', page)
  await app.inject('/ping')
  await app.inject('/private')
  await app.inject('/public')
  t.same(collector.events.map((e) => e.path), ['/public'])
})

test('errors give their status code', async (t) => {
  const { app, collector } = await build(t, { pageViews: 'all' })
  app.get('/boom', async () => { throw new Error('boom') })
  app.post('/bad', { schema: { body: { type: 'object', required: ['x'] } } }, async () => 'ok')
  await app.inject('/boom')
  await app.inject({ method: 'POST', url: '/bad', payload: {} })
  t.same(collector.events.map((e) => [e.type, e.statusCode]), [['pageview', 500], ['action', 400]])
})

test('a request answered by an earlier onRequest hook still gets its event', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  // Registered before analytics and replying (like a rate limiter): our onRequest never runs.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/limited') await reply.code(429).send('slow down')
  })
  await app.register(analytics, { collectors: [collector], pageViews: 'all' })
  app.get('/limited', async () => 'ok')
  const response = await app.inject('/limited')
  t.equal(response.statusCode, 429)
  t.equal(collector.events.length, 1)
  t.match(collector.events[0], { type: 'pageview', statusCode: 429, matchedPattern: '/limited' })
})

test('a route declared before the plugin with a bad config gets the default event, and the mistake is counted', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/early', { config: { analytics: { type: 'bogus' } as never } }, page)
  await app.register(analytics, { collectors: [collector] })
  await app.inject('/early')
  await app.inject('/early')
  t.same(collector.events.map((e) => e.type), ['pageview', 'pageview'])
  t.equal(app.analytics.stats().events.invalid, 1, 'checked once per route')
})
