// These tests are about fitting in Fastify apps, not about which requests count: COUNT_EVERYTHING makes every GET a page view.
import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { fastifyRequestContext } from '@fastify/request-context'
import analytics, { EventType, Money, addAnalyticsProperty, trackAnalyticsEvent } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { rootInstance } from '../../lib/scope.js'
import { COUNT_EVERYTHING, logCapture, type TapTest } from '../helpers/collectors.js'

function withLog (t: TapTest, level = 'info') {
  const log = logCapture()
  const app = Fastify({ logger: { level, stream: log.stream } })
  t.teardown(() => app.close())
  return { app, log }
}

const analyticsLines = (lines: Array<Record<string, unknown>>) => lines.filter((line) => line.plugin === 'analytics')

// Issue 11, item 1: Fastify hands its own register options to every plugin with the plugin's options.
test('Fastify\'s register options logLevel, prefix and logSerializers are accepted', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()], logLevel: 'warn', prefix: '/x', logSerializers: {} })
  await app.ready()
  t.ok(app.hasPlugin('fastify-analytics'))
})

test('logLevel sets the level of the plugin\'s own lines, per-request ones included', async (t) => {
  // The app logs only errors; the plugin is asked for its warnings.
  const { app, log } = withLog(t, 'error')
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()], logLevel: 'warn' })
  app.get('/', async (request) => {
    request.analytics.setEventName('')
    return 'ok'
  })
  await app.inject('/')
  app.analytics.track({ type: 'nope' } as never)
  const lines = analyticsLines(log.lines)
  t.equal(lines.length, 2, 'both warnings are written although the app logs errors only')
  t.ok(lines.every((line) => line.level === 40))

  const quiet = withLog(t, 'info')
  await quiet.app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()], logLevel: 'error' })
  quiet.app.analytics.track({ type: 'nope' } as never)
  t.same(analyticsLines(quiet.log.lines), [], 'a warning is below the plugin\'s error level')
})

test('logSerializers apply to the plugin\'s lines', async (t) => {
  const { app, log } = withLog(t)
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()], logSerializers: { reason: () => 'serialized' } })
  app.analytics.track({ type: 'nope' } as never)
  t.match(analyticsLines(log.lines), [{ reason: 'serialized' }])
})

test('a logLevel pino does not know throws FST_ANALYTICS_INVALID_OPTION', async (t) => {
  const { app } = withLog(t)
  await t.rejects(async () => { await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()], logLevel: 'loud' as never }) }, { code: 'FST_ANALYTICS_INVALID_OPTION', message: /logLevel: .*level/ })
})

// Issue 11, item 4.
test('per-request warnings go through request.log, so they carry the reqId', async (t) => {
  const { app, log } = withLog(t)
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    collectors: [memoryCollector()],
    userId: () => { throw new Error('no user') }
  })
  app.get('/', async (request) => {
    request.analytics.setRevenue(29.99 as never)
    request.analytics.addProperty('nested', { a: 1 } as never)
    request.analytics.track({ type: EventType.Custom } as never)
    return 'ok'
  })
  const response = await app.inject('/')
  t.equal(response.statusCode, 200)
  const lines = analyticsLines(log.lines)
  t.equal(lines.length, 4, 'revenue, property, event and userId() lines')
  for (const line of lines) t.match(line, { reqId: 'req-1', plugin: 'analytics' }, String(line.msg))
})

// Issue 11, item 3.
test('helper calls that find no request are counted and logged once, with the likely causes', async (t) => {
  const { app, log } = withLog(t)
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()], requestContext: false })
  app.get('/', async () => {
    trackAnalyticsEvent({ type: EventType.Custom, eventName: 'lost' })
    addAnalyticsProperty('a', 'b')
    return 'ok'
  })
  await app.inject('/')
  trackAnalyticsEvent({ type: EventType.Custom, eventName: 'outside' })
  t.equal(app.analytics.stats().events.unattached, 3)
  const lines = analyticsLines(log.lines).filter((line) => String(line.msg).includes('unattached'))
  t.equal(lines.length, 1)
  t.match(lines[0], { level: 40, call: 'trackAnalyticsEvent', msg: /request context off.*app\.analytics\.track.*requestContext: true/ })
})

// Issue 11, item 2.
test('request.analytics in an onRequest hook that runs before the plugin\'s is callable and counts, and the request keeps its event', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  app.addHook('onRequest', async (request) => {
    request.analytics.addProperty('early', 'yes')
    request.analytics.setRevenue(Money.fromMinor(1, 'GBP'))
  })
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
  app.get('/', async (request) => {
    request.analytics.addProperty('late', 'yes')
    return 'ok'
  })
  const response = await app.inject('/')
  t.equal(response.statusCode, 200)
  t.equal(collector.events.length, 1)
  t.same(collector.events[0].properties, { late: 'yes' })
  t.equal(app.analytics.stats().events.unattached, 2)
})

test('request.analytics in a scope beside the plugin\'s (an autoloaded file without fastify-plugin) does not break the request', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(async function pluginsFile (scope) {
    await scope.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
    scope.get('/inside', async (request) => {
      request.analytics.addProperty('where', 'inside')
      return 'ok'
    })
  })
  app.register(async function routesFile (scope) {
    scope.get('/beside', async (request) => {
      request.analytics.addProperty('where', 'beside')
      request.analytics.track({ type: EventType.Custom, eventName: 'beside.tracked' })
      return 'ok'
    })
  })
  await app.ready()
  t.equal((await app.inject('/beside')).statusCode, 200)
  t.equal((await app.inject('/inside')).statusCode, 200)
  t.same(collector.events.map((event) => [event.type, event.eventName, event.path, event.properties]), [
    ['custom', 'beside.tracked', '/beside', {}],
    ['pageview', '', '/inside', { where: 'inside' }]
  ], 'track() still tracks, enriched; the automatic events are those of the plugin\'s scope')
  t.equal(app.analytics.stats().events.unattached, 1, 'app.analytics exists at the root too')
})

test('request.analytics after the request\'s event was built is counted as unattached', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
  app.addHook('onResponse', async (request) => {
    request.analytics.addProperty('too', 'late')
    request.analytics.setEventName('too.late')
  })
  app.get('/', async () => 'ok')
  await app.inject('/')
  t.same(collector.events[0].properties, {})
  t.equal(app.analytics.stats().events.unattached, 2)
})

// Issue 11, item 7.
test('@fastify/request-context registered after the plugin works, and so do the helpers', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, requestContext: true, collectors: [collector] })
  await app.register(fastifyRequestContext, { defaultStoreValues: { tenant: 'acme' } as never })
  app.get('/', async (request) => {
    addAnalyticsProperty('tenant', (request.requestContext.get as (key: string) => string)('tenant'))
    await new Promise((resolve) => setImmediate(resolve))
    trackAnalyticsEvent({ type: EventType.Custom, eventName: 'after.await' })
    return 'ok'
  })
  app.post('/', async () => {
    // The body was parsed in the stream's 'end' event: the store must have been entered again.
    addAnalyticsProperty('posted', 'yes')
    return 'ok'
  })
  t.equal((await app.inject('/')).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/', payload: { a: 1 } })).statusCode, 200)
  t.same(collector.events.map((event) => [event.eventName, event.properties]), [
    ['after.await', {}], ['', { tenant: 'acme' }], ['', { posted: 'yes' }]
  ])
  t.equal(app.analytics.stats().events.unattached, 0)
})

test('the helpers find the request after a parsed body without any request-context plugin', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, requestContext: true, collectors: [collector] })
  app.post('/', async () => {
    addAnalyticsProperty('posted', 'yes')
    return 'ok'
  })
  await app.inject({ method: 'POST', url: '/', payload: { a: 1 } })
  t.same(collector.events[0].properties, { posted: 'yes' })
})

async function registrationError (build: (app: FastifyInstance) => void): Promise<unknown> {
  const app = Fastify()
  try {
    build(app)
    await app.ready()
    return undefined
  } catch (error) {
    return error
  } finally {
    await app.close()
  }
}

test('registering the plugin twice fails through ready() with FST_ANALYTICS_ALREADY_REGISTERED, in one scope or in two', async (t) => {
  const twice = await registrationError((app) => {
    app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()] })
    app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()] })
  })
  t.match(twice, { code: 'FST_ANALYTICS_ALREADY_REGISTERED' })
  const siblings = await registrationError((app) => {
    app.register(async (a) => { await a.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()] }) })
    app.register(async (b) => { await b.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()] }) })
  })
  t.match(siblings, { code: 'FST_ANALYTICS_ALREADY_REGISTERED', message: /fastify-plugin/ })
  const nested = await registrationError((app) => {
    app.register(analytics, { ...COUNT_EVERYTHING, collectors: [] })
    app.register(async (child) => { await child.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector()] }) })
  })
  t.match(nested, { code: 'FST_ANALYTICS_ALREADY_REGISTERED' })
})

test('the root is found from any scope (Fastify builds scopes with Object.create)', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  t.equal(rootInstance(app), app)
  let depth = 0
  await app.register(async function child (scope) {
    await scope.register(async function grandChild (inner) {
      t.not(inner, app)
      t.equal(rootInstance(inner), app)
      depth = 2
    })
  })
  await app.register(fp(async function shared (scope) { t.equal(rootInstance(scope), app) }))
  t.equal(depth, 2)
})

// Issue 11, item 5: what the types accept, the runtime accepts.
test('track() takes a numeric userId, as setUserId does', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
  app.analytics.track({ type: EventType.Custom, eventName: 'signed.up', userId: 42 })
  app.analytics.track({ type: EventType.Custom, eventName: 'bad.id', userId: Number.NaN })
  t.same(collector.events.map((event) => event.userId), ['42'])
  t.equal(app.analytics.stats().events.invalid, 1)
})
