import Fastify, { type FastifyRequest } from 'fastify'
import { expectAssignable, expectError, expectType } from 'tsd'
import analytics, {
  EventType, Money, trackAnalyticsEvent, setAnalyticsRevenue, addAnalyticsProperty, setAnalyticsEventName,
  DEFAULT_DELIVERY,
  type AnalyticsCollector, type AnalyticsEvent, type AnalyticsStats, type CollectorStats, type DeliveryMode, type MoneyJSON,
  type BotsMode, type ClientInfo, type DeviceCategory, type PageViewsMode, type SkippedCounters
} from 'fastify-analytics'
import { stdoutCollector } from 'fastify-analytics/stdout'
import { memoryCollector, type MemoryCollector } from 'fastify-analytics/testing'

const app = Fastify()
app.register(analytics, { collectors: [stdoutCollector(), memoryCollector()] })
app.register(analytics, {
  collectors: [],
  pageViews: false,
  actions: true,
  classify: (request, reply) => reply.statusCode >= 500 ? null : request.method === 'GET' ? 'pageview' : undefined,
  ignore: (request) => request.url === '/health',
  locale: (request) => request.headers['x-locale'] as string | undefined,
  userId: () => 42,
  requestContext: false,
  startTimeoutMs: 1000,
  shutdownTimeoutMs: 1000
})
expectError(app.register(analytics, { collectors: [], pageview: true }))
expectError(app.register(analytics, { collectors: [], classify: () => 'custom' }))
expectError(app.register(analytics, {}))
app.register(analytics, { collectors: [stdoutCollector()], delivery: 'worker' })
expectError(app.register(analytics, { collectors: [], delivery: 'thread' }))
expectType<DeliveryMode>(DEFAULT_DELIVERY)
expectAssignable<DeliveryMode>('inline')

app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
  expectType<void>(request.analytics.setRevenue(Money.fromMinor(2999, 'GBP')))
  request.analytics.addProperty('plan', 'annual')
  request.analytics.addProperty('seats', 3)
  expectError(request.analytics.addProperty('bad', { nested: true }))
  request.analytics.setEventName('checkout.completed')
  request.analytics.setUserId(7)
  request.analytics.skip()
  request.analytics.track({ type: EventType.Custom, eventName: 'coupon.applied', properties: { code: 'X', percent: 10, stackable: false } })
  expectError(request.analytics.track({ type: EventType.Custom, eventName: 'x', properties: { big: 10n } }))
  expectError(request.analytics.track({ type: 'other' }))
  expectError(request.analytics.setRevenue(29.99))
  return { ok: true }
})
app.get('/health', { config: { analytics: false } }, async () => 'ok')
app.get('/search', { config: { analytics: { type: 'pageview' } } }, async () => 'ok')
expectError(app.get('/x', { config: { analytics: { type: 'custom' } } }, async () => 'ok'))

expectType<void>(trackAnalyticsEvent({ type: 'custom', eventName: 'x' }))
setAnalyticsRevenue(Money.fromDecimal('1.00', 'USD'))
addAnalyticsProperty('k', true)
setAnalyticsEventName('n')

// Property values keep their type: whoever reads them gets the union, not a string.
const readEvent = {} as AnalyticsEvent
expectType<string | number | boolean>(readEvent.properties.seats)
expectType<string | number | boolean>(memoryCollector().events[0].properties.seats)

expectType<AnalyticsStats>(app.analytics.stats())
expectType<CollectorStats>(app.analytics.stats().collectors.stdout)
expectType<number>(app.analytics.stats().collectors.stdout.dropped.queueFull)
expectType<Promise<void>>(app.analytics.flush())
app.analytics.track({ type: EventType.PageView })

expectType<bigint>(Money.fromMinor(1, 'JPY').minor)
expectType<MoneyJSON>(Money.fromMinor(1, 'JPY').toJSON())

const custom: AnalyticsCollector = {
  name: 'mine',
  start (signal, context) { expectType<AbortSignal>(signal); context.log.info('started') },
  collect (event) {
    expectType<Readonly<AnalyticsEvent>>(event)
    expectType<FastifyRequest | undefined>(event.request)
    expectType<string>(event.url)
    expectType<Money | undefined>(event.revenue)
  },
  async flush () {},
  close () {}
}
expectAssignable<AnalyticsCollector>(custom)
expectType<MemoryCollector>(memoryCollector())

// Data quality: which requests count, and who made them.
app.register(analytics, { collectors: [], pageViews: 'html', bots: 'skip' })
app.register(analytics, { collectors: [], pageViews: 'all', bots: 'label' })
app.register(analytics, { collectors: [], pageViews: true, bots: 'keep' })
expectError(app.register(analytics, { collectors: [], pageViews: 'json' }))
expectError(app.register(analytics, { collectors: [], bots: true }))
expectAssignable<PageViewsMode>('html')
expectAssignable<BotsMode>('label')
expectType<SkippedCounters>(app.analytics.stats().events.skipped)
expectType<number>(app.analytics.stats().events.skipped.notPage)
expectType<number>(app.analytics.stats().events.skipped.beforeSend)
const seen: AnalyticsCollector = {
  name: 'clients',
  start () {},
  collect (event) {
    expectType<Readonly<ClientInfo>>(event.client)
    expectType<DeviceCategory>(event.client.device)
    expectType<boolean>(event.client.bot)
  },
  flush () {},
  close () {}
}
expectAssignable<AnalyticsCollector>(seen)
expectError<DeviceCategory>('phone')
expectType<ClientInfo>(memoryCollector().events[0].client)
// Issue 11: Fastify's register options, route configs that cannot work, numeric user ids, an uncalled factory.
app.register(analytics, { collectors: [], logLevel: 'warn', prefix: '/analytics', logSerializers: {} })
expectError(app.get('/both', { config: { analytics: { type: 'pageview', action: 'x' } } }, async () => 'ok'))
app.post('/typed', { config: { analytics: { type: 'action', action: 'typed' } } }, async () => 'ok')
app.analytics.track({ type: EventType.Custom, eventName: 'signed.up', userId: 42 })
expectError(app.analytics.track({ type: EventType.Custom, eventName: 'signed.up', userId: true }))
expectError(app.register(analytics, { collectors: [memoryCollector] }))
expectType<number>(app.analytics.stats().events.unattached)

// The stdout collector's byte bound on lines waiting for a slow destination.
stdoutCollector({ maxQueueBytes: 8 << 20 })
expectError(stdoutCollector({ maxQueueBytes: '8MB' }))
