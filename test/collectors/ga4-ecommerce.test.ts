import { test } from 'tap'
import Fastify from 'fastify'
import analytics, { Money, type AnalyticsEventInput } from '../../lib/index.js'
import { ga4Collector, type Ga4CollectorOptions } from '../../lib/collectors/ga4.js'
import { memoryCollector } from '../../lib/testing.js'
import { logCapture, COUNT_EVERYTHING, type TapTest } from '../helpers/collectors.js'
import { startSink, type ReceivedRequest, type Sink } from '../helpers/sink.js'
import { validateGa4Request } from '../servers/ga4-rules.js'

// Issue 25, item 6: revenue reaches GA4 as the ecommerce event its Monetization reports count.

const BASE = { measurementId: 'G-TEST1234', apiSecret: 'secret', flushIntervalMs: 5 } as const
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'
const ID = (n: number): string => `0190a0b0-0000-7000-8000-${String(n).padStart(12, '0')}`

interface WireEvent { name: string, params: Record<string, unknown> }

function wireEvents (sink: Sink): WireEvent[] {
  return sink.requests.flatMap((request) => (JSON.parse(request.body.toString('utf8')) as { events: WireEvent[] }).events)
    .filter((event) => event.name !== 'campaign_details')
}

/** Tracks `inputs` through an app with one GA4 collector on a GA4 test server; returns what arrived. */
async function send (t: TapTest, inputs: AnalyticsEventInput[], options: Partial<Ga4CollectorOptions> = {}, delivery: 'inline' | 'worker' = 'inline') {
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const logs = logCapture()
  const app = Fastify({ loggerInstance: logs.log as never })
  await app.register(analytics, { delivery, collectors: [ga4Collector({ ...BASE, endpoint: sink.origin, ...options })] })
  await app.ready()
  for (const input of inputs) app.analytics.track(input)
  await app.close()
  t.same(sink.violations, [], 'the GA4 test server found nothing wrong')
  return { events: wireEvents(sink), logs, stats: app.analytics.stats().collectors.ga4 }
}

test('an event with revenue goes as purchase: transaction_id is the event id, value from minor units by the currency\'s exponent', async (t) => {
  const { events, stats } = await send(t, [
    { type: 'custom', eventName: 'checkout.completed', id: ID(1), revenue: Money.fromMinor(2999, 'GBP'), properties: { plan: 'annual', items: 3 } },
    { type: 'custom', eventName: 'ticket', id: ID(2), revenue: Money.fromMinor(500, 'JPY') },
    { type: 'custom', eventName: 'gold', id: ID(3), revenue: Money.fromMinor(1500, 'KWD') },
    { type: 'custom', eventName: 'no.revenue', id: ID(4) }
  ])
  t.equal(stats.delivered, 4)
  t.same(events.map((event) => [event.name, event.params.transaction_id, event.params.value, event.params.currency]), [
    ['purchase', ID(1), 29.99, 'GBP'],
    ['purchase', ID(2), 500, 'JPY'],
    ['purchase', ID(3), 1.5, 'KWD'],
    ['no_revenue', undefined, undefined, undefined]
  ])
  t.equal(events[0].params.plan, 'annual', 'properties still go along')
  t.same([events[0].params.items, events[0].params.x_items], [undefined, 3], 'a property named items is renamed: GA4 reads items as the item array')
})

test('a GA4 ecommerce name keeps its name; purchase and refund take the app\'s transaction_id property when it has one', async (t) => {
  const { events } = await send(t, [
    { type: 'custom', eventName: 'add_to_cart', id: ID(1), revenue: Money.fromMinor(1000, 'EUR') },
    { type: 'custom', eventName: 'begin_checkout', id: ID(2), revenue: Money.fromMinor(1000, 'EUR') },
    { type: 'custom', eventName: 'refund', id: ID(3), revenue: Money.fromMinor(1000, 'EUR'), properties: { transaction_id: 'order-77' } },
    { type: 'custom', eventName: 'purchase', id: ID(4), revenue: Money.fromMinor(1000, 'EUR'), properties: { transaction_id: 4242 } },
    { type: 'custom', eventName: 'view_item', id: ID(5) }
  ])
  t.same(events.map((event) => [event.name, event.params.transaction_id, event.params.value]), [
    ['add_to_cart', undefined, 10],
    ['begin_checkout', undefined, 10],
    ['refund', 'order-77', 10],
    ['purchase', '4242', 10],
    ['view_item', undefined, undefined]
  ])
})

test('eventNames as an object maps custom event and action names; a mapped name wins over purchase', async (t) => {
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const memory = memoryCollector()
  const app = Fastify()
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    collectors: [memory, ga4Collector({
      ...BASE,
      endpoint: sink.origin,
      eventNames: { 'cart.viewed': 'view_cart', 'POST /orders': 'purchase', renewal: 'subscription_renewed' }
    })]
  })
  app.post('/orders', async (request) => {
    request.analytics.setRevenue(Money.fromMinor(4999, 'USD'))
    return 'ok'
  })
  await app.ready()
  app.analytics.track({ type: 'custom', eventName: 'cart.viewed', revenue: Money.fromMinor(250, 'USD') })
  app.analytics.track({ type: 'custom', eventName: 'renewal', revenue: Money.fromMinor(900, 'USD') })
  await app.inject({ method: 'POST', url: '/orders', payload: {}, headers: { 'user-agent': BROWSER } })
  await app.close()
  t.same(sink.violations, [])
  const order = memory.events.find((event) => event.actionName === 'POST /orders')
  t.same(wireEvents(sink).map((event) => [event.name, event.params.value, event.params.currency, event.params.transaction_id]), [
    ['view_cart', 2.5, 'USD', undefined],
    ['subscription_renewed', 9, 'USD', undefined],
    ['purchase', 49.99, 'USD', order?.id]
  ], 'the automatic action\'s purchase carries its own event id')
})

test('eventNames as a function: its name (made valid), null for the default; a throw falls back and is logged', async (t) => {
  const { events, logs } = await send(t, [
    { type: 'custom', eventName: 'a', revenue: Money.fromMinor(100, 'USD') },
    { type: 'custom', eventName: 'b', revenue: Money.fromMinor(100, 'USD') },
    { type: 'custom', eventName: 'c', revenue: Money.fromMinor(100, 'USD') },
    { type: 'custom', eventName: 'd' }
  ], {
    eventNames: (event) => {
      if (event.eventName === 'a') return 'plan.upgraded'
      if (event.eventName === 'c') throw new Error('boom')
      if (event.eventName === 'd') return 42 as unknown as string
      return null
    }
  })
  t.same(events.map((event) => event.name), ['plan_upgraded', 'purchase', 'purchase', 'd'])
  t.ok(logs.lines.some((line) => String(line.msg).includes('eventNames option threw')), 'the throw is logged')
  t.ok(logs.lines.some((line) => String(line.msg).includes('eventNames option returned no usable name')), 'a non-string is logged')
})

test('worker delivery: an eventNames object crosses to the worker and names events there', async (t) => {
  const { events, stats } = await send(t, [
    { type: 'custom', eventName: 'order.paid', id: ID(9), revenue: Money.fromMinor(1234, 'EUR') },
    { type: 'custom', eventName: 'cart.add', revenue: Money.fromMinor(100, 'EUR') }
  ], { eventNames: { 'cart.add': 'add_to_cart' } }, 'worker')
  t.equal(stats.delivered, 2)
  t.same(events.map((event) => [event.name, event.params.transaction_id, event.params.value]), [
    ['purchase', ID(9), 12.34],
    ['add_to_cart', undefined, 1]
  ])
})

test('eventNames values that are not valid GA4 event names fail at registration', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ 'order.paid': 'order.paid' }, /eventNames\["order.paid"\] must be a valid GA4 event name/],
    [{ x: 'session_start' }, /must be a valid GA4 event name/],
    [{ x: 'a'.repeat(41) }, /must be a valid GA4 event name/],
    [{ x: 7 }, /must be a valid GA4 event name/],
    ['purchase', /eventNames must be an object/],
    [['purchase'], /eventNames must be an object/]
  ]
  for (const [eventNames, message] of cases) {
    t.throws(() => ga4Collector({ ...BASE, eventNames: eventNames as Ga4CollectorOptions['eventNames'] }), { code: 'FST_ANALYTICS_INVALID_OPTION', message }, JSON.stringify(eventNames))
  }
})

test('the GA4 test server checks the ecommerce parameters', async (t) => {
  const request = (events: unknown[]): ReceivedRequest => ({
    method: 'POST',
    url: '/mp/collect?measurement_id=G-X&api_secret=s',
    headers: { 'content-type': 'application/json' },
    rawHeaders: [],
    body: Buffer.from(JSON.stringify({ client_id: '1.2', events })),
    receivedAt: Date.now()
  })
  const session = { session_id: 1, engagement_time_msec: 1 }
  const check = (params: Record<string, unknown>, name = 'purchase'): string[] => validateGa4Request(request([{ name, params: { ...session, ...params } }]))
  t.same(check({ value: 1.5, currency: 'EUR', transaction_id: 't1' }), [], 'a complete purchase')
  t.same(check({ value: 1.5, currency: 'EUR', transaction_id: 't1', items: [{ item_id: 'sku' }] }), [], 'with items')
  t.match(check({ value: 1.5, currency: 'EUR' }), [/purchase without a transaction_id/])
  t.match(check({ transaction_id: 't1' }), [/purchase without value/])
  t.match(check({ value: '1.5', currency: 'EUR', transaction_id: 't1' }), [/value must be a number/, /value of purchase must be a finite number/])
  t.match(check({ value: 1, transaction_id: 't1' }), [/currency must be 3 uppercase letters/, /currency of purchase must be an ISO 4217 code/])
  t.match(check({ value: 1, currency: 'ABC', transaction_id: 't1' }), [/must be an ISO 4217 code/])
  t.match(check({ value: 1, currency: 'EUR', transaction_id: 't1', items: [] }), [/items must be an array of 1 to 200/])
  t.match(check({ value: 1, currency: 'EUR', transaction_id: 't1', items: [{ price: 1 }] }), [/needs item_id or item_name/])
  t.match(check({ value: 1, currency: 'EUR' }, 'refund'), [/refund without a transaction_id/])
  t.same(check({}, 'add_to_cart'), [], 'add_to_cart needs neither value nor transaction_id')
  t.match(check({ items: [{ item_id: 'a' }] }, 'signup'), [/items on signup, which is not an ecommerce event/])
})
