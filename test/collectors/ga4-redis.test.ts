import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { createClient } from 'redis'
import analytics from '../../lib/index.js'
import { ga4Collector, type Ga4Collector, type Ga4SessionStore } from '../../lib/collectors/ga4.js'
import { redisSessionStore, DEFAULT_KEY_PREFIX, KEY_EXPIRY_SLACK_MS } from '../../lib/collectors/redis.js'
import { assertBalanced, logCapture, type LogCapture, type TapTest } from '../helpers/collectors.js'
import { startSink, type Sink } from '../helpers/sink.js'
import { startRedis } from '../helpers/servers/redis.js'
import { validateGa4Request } from '../servers/ga4-rules.js'

// Every test here runs against a real redis-server that the test starts (test/helpers/servers/redis.ts).

const SECRET = 'sEcReT-4pi-k3y_value'
const MEASUREMENT_ID = 'G-TEST1234'

interface Instance {
  app: FastifyInstance
  ga4: Ga4Collector
  logs: LogCapture
}

async function instance (t: TapTest, sink: Sink, sessions: Ga4SessionStore | undefined, sessionTimeoutMs?: number): Promise<Instance> {
  const logs = logCapture()
  const ga4 = ga4Collector({
    measurementId: MEASUREMENT_ID,
    apiSecret: SECRET,
    endpoint: sink.origin,
    flushIntervalMs: 5,
    retry: { baseDelayMs: 1, maxDelayMs: 20 },
    ...(sessions === undefined ? {} : { sessions }),
    ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs })
  })
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  // visits: false — with visits on, session_id is the visit and the session store is not asked;
  // these tests are about the store (the `sessions` option, for events that carry no visit).
  await app.register(analytics, { collectors: [ga4], visits: false })
  // An HTML page: the default pageViews: 'html' counts it, as a real site's page would be.
  app.get('/page/:n', async (_request, reply) => reply.type('text/html').send('<p>ok</p>'))
  await app.ready()
  t.teardown(() => app.close())
  return { app, ga4, logs }
}

/** One visitor (same address, agent and host on every instance, no cookies): one derived client id. */
async function visit (target: Instance, n: number, agent = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'): Promise<void> {
  await target.app.inject({ method: 'GET', url: `/page/${n}`, remoteAddress: '203.0.113.9', headers: { 'user-agent': agent } })
  await target.app.analytics.flush()
}

/** (client id, session id) of every event the sink received, in arrival order. */
function sessions (sink: Sink): Array<{ client: string, session: number, page: string }> {
  const out: Array<{ client: string, session: number, page: string }> = []
  for (const request of sink.requests) {
    const body = JSON.parse(request.body.toString('utf8')) as { client_id: string, events: Array<{ params: Record<string, string | number> }> }
    for (const event of body.events) out.push({ client: body.client_id, session: Number(event.params.session_id), page: String(event.params.page_location) })
  }
  return out
}

async function closeAll (t: TapTest, instances: Instance[]): Promise<void> {
  for (const { app } of instances) {
    await app.close()
    assertBalanced(t, app.analytics.stats().collectors)
  }
}

test('two instances sharing a Redis store give one session per visitor across alternating requests', async (t) => {
  const redis = await startRedis(t)
  if (redis === undefined) return
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const a = await instance(t, sink, redisSessionStore({ url: redis.url }))
  const b = await instance(t, sink, redisSessionStore({ url: redis.url }))
  for (let i = 0; i < 6; i++) {
    await visit(i % 2 === 0 ? a : b, i, 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0')
    await visit(i % 2 === 0 ? b : a, i, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1')
    // A session id is its start second: without a shared store, the instance that first sees the
    // visitor a second later starts a session with another id.
    if (i === 0) await new Promise((resolve) => setTimeout(resolve, 1100))
  }
  await closeAll(t, [a, b])
  const seen = sessions(sink)
  t.equal(seen.length, 12, 'every event delivered')
  const byClient = new Map<string, Set<number>>()
  for (const { client, session } of seen) byClient.set(client, (byClient.get(client) ?? new Set()).add(session))
  t.equal(byClient.size, 2, 'two visitors, one client id each on both instances')
  for (const [client, ids] of byClient) t.equal(ids.size, 1, `one session for ${client}`)
  t.equal(a.ga4.sessionStats().store, 'redis')
  t.equal(a.ga4.sessionStats().fallbackBatches + b.ga4.sessionStats().fallbackBatches, 0, 'Redis answered every batch',
    { warnings: [...a.logs.lines, ...b.logs.lines].filter((line) => Number(line.level) >= 40) })
  t.ok(a.ga4.sessionStats().storeBatches >= 6 && b.ga4.sessionStats().storeBatches >= 6)
  t.same(sink.violations, [])
})

test('a pause longer than sessionTimeoutMs starts one new session, on both instances', async (t) => {
  const redis = await startRedis(t)
  if (redis === undefined) return
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const timeout = 1000
  const a = await instance(t, sink, redisSessionStore({ url: redis.url }), timeout)
  const b = await instance(t, sink, redisSessionStore({ url: redis.url }), timeout)
  for (let i = 0; i < 4; i++) await visit(i % 2 === 0 ? a : b, i)
  await new Promise((resolve) => setTimeout(resolve, timeout + 500))
  for (let i = 4; i < 8; i++) await visit(i % 2 === 0 ? a : b, i)
  await closeAll(t, [a, b])
  const seen = sessions(sink).sort((x, y) => Number(x.page.split('/').pop()) - Number(y.page.split('/').pop()))
  t.equal(seen.length, 8)
  const before = new Set(seen.slice(0, 4).map((e) => e.session))
  const after = new Set(seen.slice(4).map((e) => e.session))
  t.equal(before.size, 1, 'one session before the pause, across both instances')
  t.equal(after.size, 1, 'one session after it, across both instances')
  t.ok([...after][0] > [...before][0], 'a new session, started later')
})

test('Redis stopped mid-run: no event lost, sessions continue from memory, and Redis is used again once back', async (t) => {
  const redis = await startRedis(t)
  if (redis === undefined) return
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const a = await instance(t, sink, redisSessionStore({ url: redis.url }))
  const b = await instance(t, sink, redisSessionStore({ url: redis.url }))
  let n = 0
  for (let i = 0; i < 4; i++) await visit(i % 2 === 0 ? a : b, n++)
  await redis.stop()
  for (let i = 0; i < 6; i++) await visit(i % 2 === 0 ? a : b, n++)
  const fallbacks = a.ga4.sessionStats().fallbackBatches + b.ga4.sessionStats().fallbackBatches
  t.ok(fallbacks >= 6, `batches fell back to memory while Redis was down (${fallbacks})`)
  await redis.restart()
  // A session id is its start second: a session started afresh after the restart would differ.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const storeBatches = (): number => a.ga4.sessionStats().storeBatches + b.ga4.sessionStats().storeBatches
  const before = storeBatches()
  // node-redis reconnects on its own (at most 2 s apart): bounded in count and in time.
  const deadline = Date.now() + 15_000
  for (let i = 0; i < 300 && storeBatches() < before + 2 && Date.now() < deadline; i++) {
    await visit(i % 2 === 0 ? a : b, n++)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(storeBatches() >= before + 2, 'both instances use Redis again')
  await closeAll(t, [a, b])
  const seen = sessions(sink)
  t.equal(seen.length, n, 'every event delivered')
  t.equal(new Set(seen.map((e) => e.session)).size, 1, 'one session throughout: the fallback and the restarted Redis continue it')
  for (const { ga4, logs } of [a, b]) {
    const stats = ga4.sessionStats()
    t.equal(stats.fallbackEvents >= stats.fallbackBatches, true)
    const warnings = logs.lines.filter((line) => String(line.msg).startsWith('GA4 session store failed'))
    t.ok(stats.fallbackBatches >= 3, 'several batches fell back')
    t.equal(warnings.length, 1, 'logged once: rate-limited')
    t.ok(logs.lines.some((line) => String(line.msg).startsWith('GA4 session store answers again')), 'recovery logged')
  }
})

test('a Redis that stops answering (SIGSTOP) costs a batch its timeout, never a hang or an event', async (t) => {
  const redis = await startRedis(t)
  if (redis === undefined) return
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  t.teardown(() => redis.thaw())
  const a = await instance(t, sink, redisSessionStore({ url: redis.url, timeoutMs: 200 }))
  await visit(a, 0)
  redis.freeze()
  await a.app.inject({ method: 'GET', url: '/page/1', remoteAddress: '203.0.113.9', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' } })
  await a.app.analytics.flush({ timeoutMs: 10_000 })
  t.equal(a.app.analytics.stats().collectors.ga4.delivered, 2, 'delivered although Redis is frozen')
  t.equal(a.ga4.sessionStats().fallbackBatches, 1)
  redis.thaw()
  await closeAll(t, [a])
  t.equal(new Set(sessions(sink).map((e) => e.session)).size, 1, 'the fallback continued the session Redis had given')
})

test('with your own client: keys expire on their own, and your client stays open', async (t) => {
  const redis = await startRedis(t)
  if (redis === undefined) return
  const sink = await startSink({ validate: validateGa4Request })
  t.teardown(() => sink.close())
  const client = createClient({ url: redis.url })
  client.on('error', () => {})
  await client.connect()
  t.teardown(() => client.isOpen ? client.close() : undefined)
  const timeout = 60_000
  const a = await instance(t, sink, redisSessionStore({ client, keyPrefix: 'test:' }), timeout)
  await visit(a, 0)
  await closeAll(t, [a])
  t.equal(client.isOpen, true, 'the store does not close a client it was given')
  const keys = await client.keys('test:*')
  t.equal(keys.length, 1, 'one key per visitor')
  t.match(keys[0], /^test:G-TEST1234:\d+\.\d+$/, 'prefix, then the measurement id, then the client id')
  const ttl = await client.pTTL(keys[0])
  t.ok(ttl > timeout && ttl <= timeout + KEY_EXPIRY_SLACK_MS, `expires after the session timeout and the slack (${ttl} ms)`)
  const [id, last] = String(await client.get(keys[0])).split(':').map(Number)
  t.equal(id, sessions(sink)[0].session)
  t.ok(last > 0)
  t.equal(DEFAULT_KEY_PREFIX, 'fastify-analytics:ga4:')
})
