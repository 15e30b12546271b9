import { test } from 'tap'
import Fastify from 'fastify'
import analytics from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'

async function registerWith (options: unknown): Promise<unknown> {
  const app = Fastify()
  try {
    await app.register(analytics, options as never)
    await app.ready()
    return undefined
  } catch (error) {
    return error
  } finally {
    await app.close()
  }
}

test('unknown or ill-typed options throw FST_ANALYTICS_INVALID_OPTION at registration', async (t) => {
  const collector = memoryCollector()
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing collectors', {}, /collectors must be an array/],
    ['collectors not an array', { collectors: collector }, /collectors must be an array/],
    ['unknown option', { collectors: [], pageview: true }, /unknown option "pageview"/],
    ['pageViews not a mode', { collectors: [], pageViews: 'yes' }, /pageViews must be "html", "all" or false/],
    ['bots not a mode', { collectors: [], bots: true }, /bots must be "skip", "label" or "keep"/],
    ['actions not boolean', { collectors: [], actions: 1 }, /actions must be a boolean/],
    ['classify not a function', { collectors: [], classify: 'GET' }, /classify must be a function/],
    ['ignore not a function', { collectors: [], ignore: true }, /ignore must be a function/],
    ['locale not a function', { collectors: [], locale: 'en' }, /locale must be a function/],
    ['userId not a function', { collectors: [], userId: 'u' }, /userId must be a function/],
    ['requestContext not boolean', { collectors: [], requestContext: 'no' }, /requestContext must be a boolean/],
    ['startTimeoutMs negative', { collectors: [], startTimeoutMs: -1 }, /startTimeoutMs must be a positive integer/],
    ['shutdownTimeoutMs fractional', { collectors: [], shutdownTimeoutMs: 1.5 }, /shutdownTimeoutMs must be a positive integer/],
    ['collector not an object', { collectors: [null] }, /collectors\[0\] must be an object/],
    ['collector factory not called', { collectors: [memoryCollector] }, /collectors\[0\] is a function: call it to make a collector \(memoryCollector\(…\), not memoryCollector\)/],
    ['logLevel not a string', { collectors: [], logLevel: 30 }, /logLevel must be a log level name/],
    ['logSerializers not functions', { collectors: [], logSerializers: { req: 'no' } }, /logSerializers must be an object of functions/],
    ['collector without name', { collectors: [{ ...collector, name: '' }] }, /name must be a non-empty string/],
    ['collector without collect', { collectors: [{ name: 'x', start () {}, flush () {}, close () {} }] }, /has no collect\(\) method/],
    ['collector stats not a method', { collectors: [{ ...collector, stats: 1 }] }, /stats must be a method/]
  ]
  for (const [label, options, message] of cases) {
    const error = await registerWith(options)
    t.match(error, { code: 'FST_ANALYTICS_INVALID_OPTION', message }, label)
  }
})

test('two collectors with one name throw FST_ANALYTICS_DUPLICATE_COLLECTOR', async (t) => {
  const error = await registerWith({ collectors: [memoryCollector({ name: 'same' }), memoryCollector({ name: 'same' })] })
  t.match(error, { code: 'FST_ANALYTICS_DUPLICATE_COLLECTOR', message: /"same"/ })
})

test('the plugin carries its fastify-plugin metadata, registers no request-context, and reuses the app\'s', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [memoryCollector()] })
  await app.ready()
  t.ok(app.hasPlugin('fastify-analytics'))
  t.notOk(app.hasPlugin('@fastify/request-context'))

  const { fastifyRequestContext } = await import('@fastify/request-context')
  const withContext = Fastify()
  t.teardown(() => withContext.close())
  await withContext.register(fastifyRequestContext, { defaultStoreValues: { tenant: 'acme' } as never })
  // A second registration would throw (decorator already present): this proves it is reused.
  await withContext.register(analytics, { collectors: [memoryCollector()] })
  withContext.get('/', async (request) => (request.requestContext.get as (k: string) => unknown)('tenant'))
  const response = await withContext.inject('/')
  t.equal(response.body, 'acme')
})
