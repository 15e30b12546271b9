import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import analytics, { EventType } from '../../lib/index.js'
import { memoryCollector, type MemoryCollector } from '../../lib/testing.js'
import type { TapTest } from '../helpers/collectors.js'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** A ready app whose events land in a memory collector. */
async function trackingApp (t: TapTest): Promise<{ app: FastifyInstance, collector: MemoryCollector }> {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector] })
  await app.ready()
  return { app, collector }
}

test('every event gets a unique UUIDv7 whose first 48 bits are its creation time', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector] })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<p>ok</p>'))
  app.post('/buy', async (request) => {
    request.analytics.track({ type: EventType.Custom, eventName: 'extra' })
    return 'ok'
  })
  const before = Date.now()
  for (let i = 0; i < 50; i++) await app.inject(i % 2 === 0 ? '/' : { method: 'POST', url: '/buy' })
  app.analytics.track({ type: EventType.Custom, eventName: 'job' })
  const after = Date.now()
  const ids = collector.events.map((event) => event.id)
  t.equal(ids.length, 76)
  t.equal(new Set(ids).size, ids.length, 'no two events share an id')
  t.same(ids.filter((id) => !UUID_V7.test(id)), [], 'every id is a version-7, RFC 9562 variant UUID')
  const times = ids.map((id) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16))
  t.ok(times.every((ms) => ms >= before && ms <= after), 'the embedded time is the creation time')
  t.same([...times].sort((a, b) => a - b), times, 'ids sort by creation time (to the millisecond)')
})

test('track() keeps an explicit canonical UUID as the id and refuses any other id', async (t) => {
  const { app, collector } = await trackingApp(t)
  const own = '0190a6e0-1b2c-7d3e-8f40-123456789abc'
  app.analytics.track({ type: EventType.Custom, eventName: 'import', id: own })
  for (const id of ['0190A6E0-1B2C-7D3E-8F40-123456789ABC', 'not-a-uuid', 42, '']) {
    app.analytics.track({ type: EventType.Custom, eventName: 'import', id } as never)
  }
  t.same(collector.events.map((event) => event.id), [own])
  t.equal(app.analytics.stats().events.invalid, 4, 'refused ids are counted as invalid events')
})

test('ids stay unique and well-formed across many refills of the random pool', async (t) => {
  const { app, collector } = await trackingApp(t)
  // The pool holds the random bits of a few hundred ids: 5000 events cross it a dozen times.
  for (let i = 0; i < 5000; i++) app.analytics.track({ type: EventType.Custom, eventName: 'bulk' })
  const ids = collector.events.map((event) => event.id)
  t.equal(new Set(ids).size, 5000, 'no two events share an id')
  t.same(ids.filter((id) => !UUID_V7.test(id)), [], 'every id is a version-7, RFC 9562 variant UUID')
  // 74 random bits per id: the tails (after the time) of 5000 ids are all distinct, and every hex
  // digit shows up in every random position (a stuck or repeated byte would not).
  t.equal(new Set(ids.map((id) => id.slice(15))).size, 5000, 'no two random parts repeat')
  for (const position of [15, 16, 17, 20, 21, 22, 24, 35]) {
    t.equal(new Set(ids.map((id) => id[position])).size, 16, `position ${position} takes every hex digit`)
  }
  t.same(new Set(ids.map((id) => id[19])), new Set(['8', '9', 'a', 'b']), 'the variant digit takes all four values')
})
