import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { createClient } from 'redis'
import analytics from '../../lib/index.js'
import { ga4Collector } from '../../lib/collectors/ga4.js'
import { redisVisitStore, DEFAULT_VISIT_KEY_PREFIX } from '../../lib/collectors/redis.js'
import { memoryCollector, type MemoryCollector } from '../../lib/testing.js'
import { assertBalanced, logCapture, type LogCapture, type TapTest } from '../helpers/collectors.js'
import { startSink, type Sink } from '../helpers/sink.js'
import { startRedis } from '../helpers/servers/redis.js'
import { VISITS_CLOCK } from '../../lib/visits/index.js'
import { validateGa4Request } from '../servers/ga4-rules.js'

// Every test here runs against a real redis-server that the test starts (test/helpers/servers/redis.ts).

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const SALT_HOURS = 48

interface Instance { app: FastifyInstance, memory: MemoryCollector, logs: LogCapture }

async function instance (t: TapTest, url: string, sink: Sink, extra: { timeoutMs?: number } = {}, clock?: () => number): Promise<Instance> {
  const logs = logCapture()
  const memory = memoryCollector()
  const ga4 = ga4Collector({ measurementId: 'G-VISITS1', apiSecret: 'visitsSecret123', endpoint: sink.origin, flushIntervalMs: 5 })
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  await app.register(analytics, { collectors: [memory, ga4], pageViews: 'all', visits: { store: redisVisitStore({ url, ...extra }), ...(clock === undefined ? {} : { [VISITS_CLOCK]: clock }) } as never })
  app.get('/*', async () => 'ok')
  await app.ready()
  t.teardown(() => app.close())
  return { app, memory, logs }
}

/** One request; its event waits for Redis, so the helper waits for the event (`wait: false` does not). */
async function hit (target: Instance, path: string, wait = true): Promise<void> {
  const before = target.memory.events.length
  await target.app.inject({ method: 'GET', url: path, remoteAddress: '198.51.100.20', headers: { 'user-agent': FIREFOX, host: 'shop.example' } })
  if (wait) await target.memory.waitFor(before + 1, { timeoutMs: 5000 })
}

test('two instances sharing one redis-server: one visitor, one visit, one GA4 session, whichever instance answers', async (t) => {
  const redis = await startRedis(t)
  if (redis === undefined) return
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const a = await instance(t, redis.url, sink)
  const b = await instance(t, redis.url, sink)
  for (let i = 0; i < 6; i++) await hit(i % 2 === 0 ? a : b, i === 0 ? '/?utm_source=newsletter&utm_medium=email&utm_campaign=launch' : `/page/${i}`)
  const events = [...a.memory.events, ...b.memory.events]
  t.equal(events.length, 6)
  t.equal(new Set(events.map((event) => event.visitorId)).size, 1, 'one visitor id on both instances (one shared salt)')
  t.equal(new Set(events.map((event) => event.visit?.id)).size, 1, 'one visit on both instances')
  t.ok(events.every((event) => event.visit?.campaign === 'launch' && event.visit.landingPath === '/'), 'the entry attribution and landing page on every event')
  t.same(a.app.analytics.stats().visits, { store: 'redis', visitors: 1, evictions: 0, fallbacks: 0 })
  for (const target of [a, b]) {
    await target.app.close()
    assertBalanced(t, target.app.analytics.stats().collectors)
  }
  const sessions = new Set<number>()
  const names: string[] = []
  for (const request of sink.requests) {
    const body = JSON.parse(request.body.toString('utf8')) as { events: Array<{ name: string, params: Record<string, unknown> }> }
    for (const event of body.events) { sessions.add(Number(event.params.session_id)); names.push(event.name) }
  }
  t.same([...sessions], [Math.floor(Date.parse(events[0].visit?.startedAt ?? '') / 1000)], 'GA4 session_id is the visit\'s start second, on both instances')
  t.equal(names.filter((name) => name === 'campaign_details').length, 1, 'one campaign_details event for the visit')
  t.same(sink.violations, [])

  const client = createClient({ url: redis.url })
  await client.connect()
  t.teardown(() => client.destroy())
  const salts = await client.keys(`${DEFAULT_VISIT_KEY_PREFIX}salt:*`)
  t.equal(salts.length, 1, 'one salt: today\'s')
  const ttl = await client.pTTL(salts[0])
  t.ok(ttl > (SALT_HOURS - 1) * 3_600_000 && ttl <= SALT_HOURS * 3_600_000, `the salt expires within 48 hours (${ttl} ms)`)
  const visits = await client.keys(`${DEFAULT_VISIT_KEY_PREFIX}visit:*`)
  t.same(visits, [`${DEFAULT_VISIT_KEY_PREFIX}visit:${events[0].visitorId}`], 'one visit key, under the visitor id')
  const salt = String(await client.get(salts[0]))
  const logged = [...a.logs.lines, ...b.logs.lines].map((line) => JSON.stringify(line)).join('\n')
  t.notOk(logged.includes(salt), 'the salt is never logged')
  t.notOk(JSON.stringify(a.app.analytics.stats()).includes(salt), 'nor in stats()')
})

test('Redis down: every event still gets a visit, from memory; fallbacks are counted and logged', async (t) => {
  const redis = await startRedis(t)
  if (redis === undefined) return
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const a = await instance(t, redis.url, sink, { timeoutMs: 200 })
  await hit(a, '/1')
  await redis.stop()
  await hit(a, '/2')
  await hit(a, '/3')
  const events = a.memory.events
  t.equal(events.length, 3, 'no event lost')
  t.equal(new Set(events.map((event) => event.visit?.id)).size, 1, 'the visit continues from the memory copy of what Redis said')
  const stats = a.app.analytics.stats().visits
  t.ok(stats.fallbacks >= 2, `fallbacks counted (${stats.fallbacks})`)
  t.ok(a.logs.lines.some((line) => /visit store failed/.test(String(line.msg))), 'the fallback is logged')
})

test('an event waiting for a store that does not answer is sent by app.close(), after the store\'s timeout', async (t) => {
  const redis = await startRedis(t)
  if (redis === undefined) return
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const a = await instance(t, redis.url, sink, { timeoutMs: 300 })
  await hit(a, '/1')
  redis.freeze()
  t.teardown(() => redis.thaw())
  await hit(a, '/2', false)
  t.equal(a.memory.events.length, 1, 'the second event waits for the store')
  await a.app.close()
  t.equal(a.memory.events.length, 2, 'close() waited for it, then the collectors flushed')
  t.equal(a.memory.events[1].visit?.id, a.memory.events[0].visit?.id)
  t.equal(a.app.analytics.stats().visits.fallbacks, 1)
})

test('redisVisitStore options are checked', async (t) => {
  t.throws(() => redisVisitStore({ url: 'http://x' }), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /redis: or rediss:/ })
  t.throws(() => redisVisitStore({ url: 'redis://u:hunter2@x', timeoutMs: 0 }), { message: /timeoutMs/ })
  t.throws(() => redisVisitStore({} as never), { message: /exactly one of url and client/ })
  t.throws(() => redisVisitStore({ client: {} as never }), { message: /node-redis client/ })
})

test('midnight on two instances: the visit crosses it under the new day\'s shared salt', async (t) => {
  const redis = await startRedis(t)
  if (redis === undefined) return
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const midnight = Date.UTC(2030, 0, 2)
  let now = midnight - 5 * 60_000
  const clock = (): number => now
  const a = await instance(t, redis.url, sink, {}, clock)
  const b = await instance(t, redis.url, sink, {}, clock)
  await hit(a, '/before')
  now = midnight + 5 * 60_000
  await hit(b, '/after')
  await hit(a, '/after-too')
  const [before] = a.memory.events
  const [after] = b.memory.events
  const afterToo = a.memory.events[1]
  t.not(after.visitorId, before.visitorId, 'a new day: a new visitor id')
  t.equal(after.visitorId, afterToo.visitorId, 'the same on both instances')
  t.equal(after.visit?.id, before.visit?.id, 'the visit continues across midnight, on the other instance')
  t.equal(afterToo.visit?.id, before.visit?.id)
  const client = createClient({ url: redis.url })
  await client.connect()
  t.teardown(() => client.destroy())
  t.equal((await client.keys(`${DEFAULT_VISIT_KEY_PREFIX}salt:*`)).length, 2, 'yesterday\'s salt and today\'s')
  t.same(await client.keys(`${DEFAULT_VISIT_KEY_PREFIX}visit:*`), [`${DEFAULT_VISIT_KEY_PREFIX}visit:${after.visitorId}`], 'the visit moved to today\'s id')
})
