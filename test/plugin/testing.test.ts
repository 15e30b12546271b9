import { test } from 'tap'
import Fastify from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import analytics, { EventType, trackAnalyticsEvent } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'

test('memoryCollector records snapshots and waits for events tracked later', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector] })
  app.post('/signup', async () => {
    setTimeout(() => app.analytics.track({ type: EventType.Custom, eventName: 'welcome.sent' }), 20)
    return 'ok'
  })
  await app.inject({ method: 'POST', url: '/signup' })
  const events = await collector.waitFor(2)
  t.same(events.map((e) => e.type), ['action', 'custom'])
  t.notOk('request' in events[0], 'snapshots never hold the request')
  collector.clear()
  t.equal(collector.events.length, 0)
  await t.rejects(collector.waitFor(1, { timeoutMs: 30 }), /received 0 of 1 events within 30 ms/)
})

test('memoryCollector keeps at most maxEvents, oldest forgotten', async (t) => {
  const collector = memoryCollector({ name: 'small', maxEvents: 3 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector] })
  await app.ready()
  for (let i = 0; i < 5; i++) app.analytics.track({ type: EventType.Custom, eventName: `e${i}` })
  await sleep(1)
  t.same(collector.events.map((e) => e.eventName), ['e2', 'e3', 'e4'])
  t.equal((await collector.waitFor(5)).length, 3)
})

test('waitFor that times out says what the plugin counted instead, with what to change (issue 26)', async (t) => {
  const collector = memoryCollector({ name: 'waits' })
  const other = memoryCollector({ name: 'elsewhere' })
  const app = Fastify()
  const otherApp = Fastify()
  t.teardown(() => app.close())
  t.teardown(() => otherApp.close())
  await app.register(analytics, { collectors: [collector] })
  await otherApp.register(analytics, { collectors: [other] })
  app.get('/json', async () => ({ ok: true }))
  app.get('/page', async (_request, reply) => reply.type('text/html').send('<p>page</p>'))
  otherApp.get('/json', async () => ({ ok: true }))
  await app.ready()
  await otherApp.ready()
  await t.rejects(collector.waitFor(1, { timeoutMs: 10 }), /received 0 of 1 events within 10 ms; the plugin counted nothing skipped/)
  await app.inject({ url: '/json' })
  await app.inject({ url: '/page', headers: { 'user-agent': 'curl/8.0' } })
  trackAnalyticsEvent({ type: EventType.Custom, eventName: 'outside' })
  await otherApp.inject({ url: '/json' })
  const error = await collector.waitFor(1, { timeoutMs: 30 }).then(() => undefined, (thrown: Error) => thrown.message)
  t.match(error, /notPage 1 \(.*reply\.type\('text\/html'\).*pageViews: 'all'\)/, 'the JSON read, with the fix')
  t.match(error, /bot 1 \(.*User-Agent/, 'the bot')
  t.match(error, /unattached 1 \(.*app\.analytics\.track\(\)/, 'the helper call outside a request')
  t.notMatch(error, /notPage 2/, 'only the registration that holds this collector')
})
