// User collectors that misbehave in ways test/plugin/lifecycle.test.ts does not cover: a `name`
// getter that throws, a `start` that hangs beside healthy collectors, thenables that call back
// twice or throw, non-promise return values, a `stats()` that throws or returns garbage, and a
// flush that outlives the deadline. Each must leave the other collectors and the request path alone,
// and be reported once.
import { test } from 'tap'
import Fastify from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import analytics, { EventType, type AnalyticsCollector, type CollectorStats } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { assertBalanced, logCapture, type TapTest, COUNT_EVERYTHING } from '../helpers/collectors.js'
import { loaded } from '../helpers/timing.js'

function base (name: string): AnalyticsCollector {
  return { name, start () {}, collect () {}, flush () {}, close () {} }
}

/**
 * An app with `bad` registered before a healthy memory collector, a route that also tracks an
 * explicit event from the handler (so a throw into the request path would turn into a 500).
 */
async function appWith (t: TapTest, bad: AnalyticsCollector, options: { shutdownTimeoutMs?: number } = {}) {
  const log = logCapture()
  const healthy = memoryCollector({ name: 'healthy' })
  const app = Fastify({ logger: { level: 'trace', stream: log.stream } })
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [bad, healthy], shutdownTimeoutMs: options.shutdownTimeoutMs ?? 300 })
  app.get('/', async (request) => {
    request.analytics.track({ type: EventType.Custom, eventName: 'in.handler' })
    return 'ok'
  })
  await app.ready()
  return { app, log, healthy }
}

/** Three requests (two events each), every one answered 200 while `bad` misbehaves. */
async function serveThree (t: TapTest, app: Awaited<ReturnType<typeof appWith>>['app']): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const response = await app.inject('/')
    t.equal(response.statusCode, 200, 'the request is served')
    t.equal(response.body, 'ok')
  }
}

test('a name getter that throws fails registration with FST_ANALYTICS_INVALID_OPTION naming the collector\'s index', async (t) => {
  const bad = { ...base('x'), get name (): string { throw new Error('name getter exploded') } }
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => {
    await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector(), bad] })
  }, { code: 'FST_ANALYTICS_INVALID_OPTION', message: /collectors\[1\]\.name.*name getter exploded/ })
})

test('a start that never settles beside healthy collectors: ready() fails at startTimeoutMs naming only it; the others were started in parallel', async (t) => {
  const started: string[] = []
  const hung: AnalyticsCollector = { ...base('hung'), start () { started.push('hung'); return new Promise<void>(() => {}) } }
  const healthyA = memoryCollector({ name: 'a' })
  const healthyB = memoryCollector({ name: 'b' })
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [healthyA, hung, healthyB], startTimeoutMs: 150 })
  const began = Date.now()
  await t.rejects(async () => { await app.ready() }, { code: 'FST_ANALYTICS_START_FAILED', message: /"hung".*startTimeoutMs \(150 ms\)/ })
  t.ok(Date.now() - began < loaded(150), 'ready() does not wait for the hung start beyond the deadline')
  t.same(started, ['hung'])
  t.same(healthyA.calls, ['start'], 'the collector before it was started')
  t.same(healthyB.calls, ['start'], 'the collector after it was started too: starts run in parallel')
  await app.close()
})

test('a collect thenable that calls back twice and then rejects counts its event once', async (t) => {
  const bad: AnalyticsCollector = {
    ...base('twice'),
    collect () {
      return {
        then (resolve: () => void, reject: (error: Error) => void) {
          resolve()
          resolve()
          reject(new Error('and rejected as well'))
        }
      } as unknown as Promise<void>
    }
  }
  const { app, healthy } = await appWith(t, bad)
  await serveThree(t, app)
  await healthy.waitFor(6)
  await sleep(10)
  const during = app.analytics.stats().collectors.twice
  t.equal(during.delivered, 6, 'each event counted delivered once')
  t.equal(during.dropped.failed, 0, 'the late rejection is ignored')
  t.equal(during.inFlight, 0)
  await app.close()
  const stats = app.analytics.stats().collectors
  assertBalanced(t, { twice: stats.twice })
  assertBalanced(t, { healthy: stats.healthy })
  t.equal(stats.healthy.delivered, 6)
})

for (const [label, make] of [
  ['a then getter that throws', () => ({ get then (): never { throw new Error('then getter exploded') } })],
  ['a then method that throws', () => ({ then (): never { throw new Error('then method exploded') } })]
] as const) {
  test(`collect returning ${label}: the event is failed, the handler and the other collectors are unaffected`, async (t) => {
    const bad: AnalyticsCollector = { ...base('thrower'), collect: () => make() as unknown as Promise<void> }
    const { app, healthy, log } = await appWith(t, bad)
    await serveThree(t, app)
    t.equal(healthy.events.length, 6, 'the healthy collector, registered after it, got every event')
    await app.close()
    const stats = app.analytics.stats().collectors
    t.equal(stats.thrower.accepted, 6)
    t.equal(stats.thrower.dropped.failed, 6, 'counted failed')
    assertBalanced(t, { thrower: stats.thrower })
    assertBalanced(t, { healthy: stats.healthy })
    const reports = log.lines.filter((line) => line.collector === 'thrower' && line.level === 50)
    t.equal(reports.length, 1, 'reported once (rate-limited), at error level')
    t.match(JSON.stringify(reports[0]), /exploded/, 'the report carries the error')
  })
}

test('collect returning non-promise values (numbers, objects, a non-callable then) counts the event delivered', async (t) => {
  const values: unknown[] = [42, 'text', {}, { then: 42 }, [1, 2], Symbol('s'), null, false]
  let i = 0
  const bad: AnalyticsCollector = { ...base('odd'), collect: () => values[i++ % values.length] as void }
  const { app, healthy } = await appWith(t, bad)
  for (let n = 0; n < 4; n++) t.equal((await app.inject('/')).statusCode, 200)
  await app.close()
  const stats = app.analytics.stats().collectors
  t.equal(stats.odd.delivered, 8)
  assertBalanced(t, { odd: stats.odd })
  t.equal(healthy.events.length, 8)
})

test('a stats() that throws: app.analytics.stats() and close() still work, the events count as delivered when collect returned', async (t) => {
  const bad: AnalyticsCollector = { ...base('nostats'), stats () { throw new Error('stats exploded') } }
  const { app, log } = await appWith(t, bad)
  await serveThree(t, app)
  t.doesNotThrow(() => app.analytics.stats())
  t.equal(app.analytics.stats().collectors.nostats.delivered, 6)
  await app.close()
  const stats = app.analytics.stats().collectors
  assertBalanced(t, { nostats: stats.nostats })
  assertBalanced(t, { healthy: stats.healthy })
  const reports = log.lines.filter((line) => line.collector === 'nostats' && /stats\(\)/.test(String(line.msg)))
  t.equal(reports.length, 1, 'reported once, however often stats() is called')
  t.match(JSON.stringify(reports[0]), /stats exploded/)
})

const GARBAGE: Array<[string, unknown]> = [
  ['null dropped', { delivered: 1, dropped: null, retries: 0, queued: 0, inFlight: 0 }],
  ['strings and NaN', { delivered: 'many', dropped: { failed: 'x' }, retries: Number.NaN, queued: 0, inFlight: 0 }],
  ['negative and infinite counts', { delivered: -5, dropped: { failed: Infinity }, retries: 0, queued: -1, inFlight: 0 }],
  ['fractions', { delivered: 0.5, dropped: {}, retries: 0, queued: 0, inFlight: 0 }],
  ['a number', 7],
  ['a getter that throws', { get delivered (): number { throw new Error('getter exploded') }, dropped: {}, retries: 0, queued: 0, inFlight: 0 }]
]

for (const [label, garbage] of GARBAGE) {
  test(`a stats() returning garbage (${label}) never breaks stats(), close() or the accounting`, async (t) => {
    const bad: AnalyticsCollector = { ...base('garbage'), stats: () => garbage as ReturnType<NonNullable<AnalyticsCollector['stats']>> }
    const { app, log } = await appWith(t, bad)
    await serveThree(t, app)
    let during: CollectorStats | undefined
    t.doesNotThrow(() => { during = app.analytics.stats().collectors.garbage })
    t.equal(during?.delivered, 6, 'events count as delivered when collect returned, as for a collector without stats()')
    await t.resolves(app.close(), 'close() resolves')
    const stats = app.analytics.stats().collectors
    assertBalanced(t, { garbage: stats.garbage })
    assertBalanced(t, { healthy: stats.healthy })
    t.equal(stats.healthy.delivered, 6)
    const reports = log.lines.filter((line) => line.collector === 'garbage' && /stats\(\)/.test(String(line.msg)))
    t.equal(reports.length, 1, 'reported once')
    const summaries = log.lines.filter((line) => String(line.msg).startsWith('analytics collector closed'))
    t.equal(summaries.length, 2, 'both collectors still log their close summary')
  })
}

test('a flush that settles after the deadline: close() returns at the deadline, the late rejection is harmless', async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })
  // The flush rejects well after the deadline (150 ms) even on a loaded machine; the test asserts the
  // order (close returned, then the flush settled), not a duration.
  let flushSettled = false
  let settle: () => void = () => {}
  const settled = new Promise<void>((resolve) => { settle = resolve })
  const bad: AnalyticsCollector = {
    ...base('late'),
    flush: () => new Promise<void>((_resolve, reject) => setTimeout(() => {
      flushSettled = true
      reject(new Error('flush rejected late'))
      settle()
    }, loaded(150)))
  }
  const { app, healthy, log } = await appWith(t, bad, { shutdownTimeoutMs: 150 })
  await serveThree(t, app)
  const began = Date.now()
  await app.close()
  const took = Date.now() - began
  t.notOk(flushSettled, `close() returned at its deadline, before the flush settled (${took} ms)`)
  t.same(healthy.calls, ['start', 'flush', 'close'], 'the healthy collector was flushed and closed')
  await settled
  await sleep(50) // an unhandled rejection is reported after the microtask queue drains
  t.same(unhandled, [], 'the late rejection is not an unhandled rejection')
  const reports = log.lines.filter((line) => line.collector === 'late' && line.member === 'flush')
  t.equal(reports.length, 1, 'the flush is reported once (at the deadline), not again when it rejects')
  t.match(reports[0], { level: 40, msg: /did not finish before the deadline/ })
  assertBalanced(t, { late: app.analytics.stats().collectors.late })
})

test('every member misbehaving at once in one collector: the others and the requests are untouched', async (t) => {
  const bad: AnalyticsCollector = {
    get name () { return 'chaos' },
    start () { return Promise.resolve() },
    collect () { throw Object.assign(new Error('collect'), { code: 'E_CHAOS' }) },
    flush () { return new Promise<void>(() => {}) },
    close () { throw null }, // eslint-disable-line no-throw-literal
    stats () { throw new Error('stats') }
  }
  const { app, healthy } = await appWith(t, bad, { shutdownTimeoutMs: 150 })
  await serveThree(t, app)
  await app.close()
  t.equal(healthy.events.length, 6)
  const stats = app.analytics.stats().collectors
  t.equal(stats.chaos.dropped.failed, 6)
  assertBalanced(t, { chaos: stats.chaos })
  assertBalanced(t, { healthy: stats.healthy })
})

test('start, flush and close returning odd values (numbers, objects, thenables that call back twice or throw) are harmless', async (t) => {
  const odd: unknown[] = [
    42,
    { not: 'a promise' },
    { then (resolve: () => void, reject: (error: Error) => void) { resolve(); reject(new Error('and rejected')); resolve() } },
    { then (_resolve: () => void, reject: (error: Error) => void) { reject(new Error('rejected twice')); reject(new Error('again')) } },
    { then () { throw new Error('then threw') } },
    { get then () { throw new Error('then getter threw') } }
  ]
  for (const [index, value] of odd.entries()) {
    const bad: AnalyticsCollector = { ...base('odd'), start: () => (index < 3 ? value : undefined) as void, flush: () => value as void, close: () => value as void }
    const log = logCapture()
    const healthy = memoryCollector({ name: 'healthy' })
    const app = Fastify({ logger: { level: 'trace', stream: log.stream } })
    await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [bad, healthy], shutdownTimeoutMs: 300 })
    app.get('/', async () => 'ok')
    await app.ready()
    t.equal((await app.inject('/')).statusCode, 200)
    await app.analytics.flush({ timeoutMs: 300 })
    const began = Date.now()
    await app.close()
    t.ok(Date.now() - began < loaded(300), `close() is not held (${JSON.stringify(String(value))})`)
    t.same(healthy.calls, ['start', 'flush', 'flush', 'close'])
    for (const [member, calls] of [['flush', 2], ['close', 1]] as const) {
      const reports = log.lines.filter((line) => line.collector === 'odd' && line.member === member)
      t.ok(reports.length <= calls, `${member}: reported at most once per call (${reports.length} lines for ${calls} calls)`)
    }
    assertBalanced(t, { odd: app.analytics.stats().collectors.odd })
  }
})
