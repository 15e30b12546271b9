import { test } from 'tap'
import { createServer } from 'node:net'
import { ga4Collector, type Ga4SessionStore, type SessionQuery } from '../../lib/collectors/ga4.js'
import { redisSessionStore } from '../../lib/collectors/redis.js'
import { MemorySessions } from '../../lib/collectors/ga4/session-store.js'
import { createEvent, EventType, type AnalyticsEvent } from '../../lib/event.js'
import { collectorHarness } from '../helpers/collector-harness.js'
import { batchAdapter, checkBalance, setup as engineSetup, never, sleep } from '../helpers/engine-harness.js'
import type { TapTest } from '../helpers/collectors.js'
import { startSink } from '../helpers/sink.js'
import { validateGa4Request } from '../servers/ga4-rules.js'

// The session store contract without a Redis server: custom stores that fail in every way, the
// options, the engine's asynchronous prepare, and in-memory eviction. The real-Redis tests are in
// ga4-redis.test.ts.

const SECRET = 'sEcReT-4pi-k3y_value'
const MEASUREMENT_ID = 'G-TEST1234'

function pageView (visitor: string, at = new Date()): AnalyticsEvent {
  const event = createEvent(EventType.PageView, at)
  event.clientIP = '203.0.113.7'
  event.userAgent = `Agent/${visitor}`
  event.hostname = 'shop.example'
  event.url = 'https://shop.example/'
  return event
}

async function harness (t: TapTest, sessions: Ga4SessionStore | undefined, extra: Record<string, unknown> = {}) {
  return await collectorHarness(t, { validate: validateGa4Request }, (sink) => ga4Collector({
    measurementId: MEASUREMENT_ID,
    apiSecret: SECRET,
    endpoint: sink.origin,
    flushIntervalMs: 5,
    ...(sessions === undefined ? {} : { sessions }),
    ...extra
  }), 'every request followed the Measurement Protocol rules')
}

function sessionIds (bodies: Buffer[]): number[] {
  return bodies.flatMap((body) => (JSON.parse(body.toString('utf8')) as { events: Array<{ params: { session_id: number } }> }).events.map((e) => e.params.session_id))
}

test('a store is asked once per batch, with every visitor of the batch and their times in order', async (t) => {
  const queries: SessionQuery[] = []
  const store: Ga4SessionStore = {
    kind: 'custom',
    async sessionIds (query) {
      queries.push(query)
      return query.lookups.map((lookup) => lookup.atMs.map(() => 4242))
    }
  }
  const h = await harness(t, store, { maxBatchSize: 1000, flushIntervalMs: 1000 })
  const t0 = Date.now() - 5000
  for (let i = 0; i < 5; i++) h.collect(pageView(i % 2 === 0 ? 'a' : 'b', new Date(t0 + i)))
  await h.finish()
  t.equal(queries.length, 1, 'one call for the batch')
  t.equal(queries[0].scope, MEASUREMENT_ID)
  t.equal(queries[0].timeoutMs, 30 * 60_000, 'the default session timeout')
  t.same(queries[0].lookups.map((l) => l.atMs), [[t0, t0 + 2, t0 + 4], [t0 + 1, t0 + 3]])
  t.same(queries[0].lookups.map((l) => l.known), [undefined, undefined], 'nothing known yet')
  t.same(sessionIds(h.sink.requests.map((r) => r.body)), [4242, 4242, 4242, 4242, 4242])
  t.match(h.collector.sessionStats(), { store: 'custom', storeBatches: 1, fallbackBatches: 0, fallbackEvents: 0, evictions: 0 })
})

test('a _ga_<stream> cookie keeps its session id: the store is not asked', async (t) => {
  let asked = 0
  const store: Ga4SessionStore = { kind: 'custom', sessionIds: async (q) => { asked++; return q.lookups.map((l) => l.atMs.map(() => 1)) } }
  const h = await harness(t, store)
  const event = pageView('a')
  event.requestHeaders = { cookie: '_ga_TEST1234=GS1.1.1700001234.1.1.1.0.0.0' }
  h.collect(event)
  await h.finish()
  t.equal(asked, 0)
  t.same(sessionIds(h.sink.requests.map((r) => r.body)), [1700001234])
})

test('a store that throws, rejects, answers the wrong shape or never answers: memory sessions, nothing lost', async (t) => {
  const failures: Array<[string, Ga4SessionStore['sessionIds']]> = [
    ['throws', () => { throw new Error('sync boom') }],
    ['rejects', async () => { throw new Error('async boom') }],
    ['wrong shape', async () => [[1, 2, 3]]],
    ['zero id', async (q) => q.lookups.map((l) => l.atMs.map(() => 0))],
    ['never answers', () => new Promise<number[][]>(() => {})]
  ]
  for (const [name, sessionIds] of failures) {
    await t.test(name, async (t) => {
      const h = await harness(t, { kind: 'flaky', timeoutMs: 50, sessionIds })
      h.collect(pageView('a'))
      h.collect(pageView('a'))
      const report = await h.finish()
      t.equal(report.delivered, 2)
      const ids = h.sink.requests.flatMap((r) => sessionIdsOf(r.body))
      t.equal(new Set(ids).size, 1, 'one in-memory session')
      t.ok(ids[0] > 1_000_000_000)
      t.match(h.collector.sessionStats(), { store: 'flaky', storeBatches: 0, fallbackBatches: 1, fallbackEvents: 2 })
      t.equal(h.logs.lines.filter((l) => String(l.msg).startsWith('GA4 session store failed')).length, 1, 'logged')
    })
  }
})

function sessionIdsOf (body: Buffer): number[] {
  return sessionIds([body])
}

test('in-memory sessions: visitors forgotten beyond the bound are counted as evictions', async (t) => {
  // The collector's bound is 10 000 visitors; the same class with a bound of 3 shows the counting.
  const memory = new MemorySessions(60_000, 3)
  const at = Date.now()
  memory.resolve(['a', 'b', 'c', 'd', 'e'].map((clientId) => ({ clientId, atMs: [at], known: undefined })))
  t.equal(memory.evictions, 2)
  t.equal(memory.known('a'), undefined, 'the stalest were forgotten')
  t.same(memory.known('e'), { id: Math.floor(at / 1000), lastMs: at })
  memory.record([{ clientId: 'f', atMs: [at + 5, at + 9, at + 7], known: undefined }], [[42, 42, 42]])
  t.equal(memory.evictions, 3, 'a session mirrored from the store counts too')
  t.same(memory.known('f'), { id: 42, lastMs: at + 9 })
  const h = await harness(t, undefined)
  h.collect(pageView('a'))
  await h.finish()
  t.match(h.collector.sessionStats(), { store: 'memory', evictions: 0, storeBatches: 0, fallbackBatches: 0, fallbackEvents: 0 })
})

test('the close deadline abandons a batch still waiting for its store: counted shutdown once', async (t) => {
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  let answer: ((ids: number[][]) => void) | undefined
  let lookups = 0
  const store: Ga4SessionStore = {
    kind: 'slow',
    timeoutMs: 60_000,
    sessionIds: (q) => new Promise((resolve) => { lookups = q.lookups.length; answer = resolve })
  }
  const collector = ga4Collector({ measurementId: MEASUREMENT_ID, apiSecret: SECRET, endpoint: sink.origin, flushIntervalMs: 5, sessions: store })
  collector.start(never(), { log: (await import('../helpers/collectors.js')).logCapture().log })
  collector.collect(pageView('a'))
  collector.collect(pageView('b'))
  // eslint-disable-next-line no-unmodified-loop-condition -- the store's handler sets it between sleeps
  for (let i = 0; i < 200 && answer === undefined; i++) await sleep(5)
  t.ok(answer !== undefined, 'the batch is waiting for the store')
  await collector.close(AbortSignal.timeout(50))
  t.match(collector.stats(), { delivered: 0, dropped: { shutdown: 2 }, queued: 0, inFlight: 0 })
  answer?.(Array.from({ length: lookups }, () => [7]))
  await sleep(20)
  t.match(collector.stats(), { delivered: 0, dropped: { shutdown: 2 }, queued: 0, inFlight: 0 }, 'a late answer changes nothing')
  t.equal(sink.requests.length, 0)
})

test('engine: an asynchronous prepare is awaited by flush, and its rejection counts the batch failed', async (t) => {
  const { sink, h } = await engineSetup(t, { adapter: asyncAdapter(['ok', 'reject', 'ok']) })
  h.enqueue(0, 10)
  await h.engine.flush(never())
  h.enqueue(10, 10)
  await h.engine.flush(never())
  h.enqueue(20, 10)
  await h.engine.flush(never())
  await h.engine.close(never())
  t.match(h.stats(), { delivered: 20, dropped: { failed: 10 } })
  t.equal(sink.requests.length, 2)
  checkBalance(t, h, true)
})

function asyncAdapter (plan: Array<'ok' | 'reject'>) {
  const inner = batchAdapter()
  let n = 0
  return {
    async prepare (items: number[]) {
      await sleep(2)
      if (plan[n++ % plan.length] === 'reject') throw new Error('store down')
      return inner.prepare(items)
    }
  }
}

test('options: sessions must be a store, sessionTimeoutMs an integer from 1 s to 24 h', async (t) => {
  const base = { measurementId: MEASUREMENT_ID, apiSecret: SECRET }
  for (const sessions of [null, 'redis', {}, { kind: 'x' }, { sessionIds: async () => [] }]) {
    t.throws(() => ga4Collector({ ...base, sessions: sessions as unknown as Ga4SessionStore }), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /sessions must be a session store/ })
  }
  for (const sessionTimeoutMs of [0, 999, 1.5, 86_400_001, '60000']) {
    t.throws(() => ga4Collector({ ...base, sessionTimeoutMs: sessionTimeoutMs as number }), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /sessionTimeoutMs/ })
  }
  t.doesNotThrow(() => ga4Collector({ ...base, sessionTimeoutMs: 1000 }))
})

test('redisSessionStore options: exactly one of url and client, never quoting the password', async (t) => {
  const invalid = { code: 'FST_ANALYTICS_INVALID_OPTION' }
  t.throws(() => redisSessionStore(null as never), invalid)
  t.throws(() => redisSessionStore({} as never), { ...invalid, message: /exactly one of url and client/ })
  t.throws(() => redisSessionStore({ url: 'redis://x', client: {} } as never), { message: /exactly one/ })
  t.throws(() => redisSessionStore({ url: 'redis://x', extra: 1 } as never), { message: /unknown option "extra"/ })
  t.throws(() => redisSessionStore({ url: 'http://user:hunter2@x' }), { message: /redis: or rediss:/ })
  t.throws(() => redisSessionStore({ url: 'not a url :hunter2' }), { message: /url must be a string/ })
  t.throws(() => redisSessionStore({ url: 1 as unknown as string }), { message: /url must be a string/ })
  t.throws(() => redisSessionStore({ client: { isReady: true } as never }), { message: /node-redis client/ })
  t.throws(() => redisSessionStore({ url: 'redis://x', keyPrefix: 1 as unknown as string }), { message: /keyPrefix/ })
  t.throws(() => redisSessionStore({ url: 'redis://x', timeoutMs: 0 }), { message: /timeoutMs/ })
  for (const bad of ['http://user:hunter2@x', 'not a url :hunter2']) {
    t.throws(() => redisSessionStore({ url: bad }), { message: /^(?!.*hunter2)/s }, 'the password is never in the message')
  }
  const store = redisSessionStore({ url: 'redis://127.0.0.1:1', timeoutMs: 100 })
  t.equal(store.kind, 'redis')
  t.equal(store.timeoutMs, 100)
})

test('a Redis that is not there at start: the app starts, sessions come from memory, the password is never logged', async (t) => {
  // A port that was free a moment ago: nothing listens on it.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number }
      server.close(() => resolve(address.port))
    })
  })
  const h = await harness(t, redisSessionStore({ url: `redis://:hunter2@127.0.0.1:${port}`, timeoutMs: 100 }))
  await (h.collector.start(never(), { log: h.logs.log }) as unknown as Promise<void>)
  h.collect(pageView('a'))
  h.collect(pageView('a'))
  const report = await h.finish()
  t.equal(report.delivered, 2)
  t.match(h.collector.sessionStats(), { store: 'redis', storeBatches: 0, fallbackBatches: 1, fallbackEvents: 2 })
  t.notMatch(h.logs.text(), /hunter2/)
  t.match(h.logs.text(), /Redis session store could not connect|connection error/)
})
