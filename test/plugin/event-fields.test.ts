import { test } from 'tap'
import Fastify from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import analytics, { EventType } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'

// As JSON, in logs and bodies: at most three decimals, never float residue like 3.7706759999999804.
const MICROSECONDS = /^\d+(\.\d{1,3})?$/

test('durationMs is rounded to 0.001 ms (whole microseconds) on automatic events', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector] })
  app.post('/work', async () => { await sleep(2); return 'done' })
  for (let i = 0; i < 10; i++) await app.inject({ method: 'POST', url: '/work' })
  t.equal(collector.events.length, 10)
  for (const event of collector.events) {
    t.match(JSON.stringify(event.durationMs), MICROSECONDS, `durationMs ${event.durationMs}`)
    t.ok(event.durationMs > 0)
  }
})

test('a tracked durationMs is rounded alike; a tracked event has statusCode 0 unless given one', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector] })
  app.post('/orders', async (request, reply) => {
    request.analytics.track({ type: EventType.Custom, eventName: 'order.priced', durationMs: 1.23456789 })
    request.analytics.track({ type: EventType.Custom, eventName: 'order.replayed', statusCode: 202 })
    return reply.code(201).send('created')
  })
  await app.inject({ method: 'POST', url: '/orders' })
  const byName = Object.fromEntries(collector.events.map((event) => [event.eventName || event.actionName, event]))
  t.equal(byName['order.priced'].durationMs, 1.235)
  // 0 = "no response status": the event happened while the request ran, before its status was final.
  t.equal(byName['order.priced'].statusCode, 0)
  t.equal(byName['order.replayed'].statusCode, 202, 'an explicit statusCode is kept')
  t.equal(byName['POST /orders'].statusCode, 201, "the request's automatic event carries the response status")
})
