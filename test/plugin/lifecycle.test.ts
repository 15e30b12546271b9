import { test } from 'tap'
import Fastify from 'fastify'
import { request as httpRequest } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import analytics, { EventType, type AnalyticsCollector } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { assertBalanced, faultyCollector, logCapture, type Misbehaviour, COUNT_EVERYTHING } from '../helpers/collectors.js'
import { loaded } from '../helpers/timing.js'

for (const member of ['collect', 'flush', 'close'] as const) {
  for (const how of ['throw', 'reject', 'hang'] as Misbehaviour[]) {
    test(`a collector that ${how}s in ${member}() harms only itself`, async (t) => {
      const healthy = memoryCollector({ name: 'healthy' })
      const faulty = faultyCollector('faulty', member, how)
      const log = logCapture()
      const app = Fastify({ logger: { level: 'info', stream: log.stream } })
      await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [faulty, healthy], shutdownTimeoutMs: 200 })
      app.get('/', async () => 'ok')
      for (let i = 0; i < 3; i++) {
        const response = await app.inject('/')
        t.equal(response.statusCode, 200)
      }
      const started = Date.now()
      await app.close()
      t.ok(Date.now() - started < loaded(200), 'close honours the deadline')
      t.equal(healthy.events.length, 3)
      t.same(healthy.calls, ['start', 'flush', 'close'])
      const stats = app.analytics.stats().collectors
      t.equal(stats.healthy.delivered, 3)
      assertBalanced(t, stats)
      if (member === 'collect') {
        t.equal(stats.faulty.delivered, 0)
        t.equal(how === 'hang' ? stats.faulty.dropped.shutdown : stats.faulty.dropped.failed, 3)
      } else {
        t.equal(stats.faulty.delivered, 3)
        const reported = log.lines.filter((line) => line.collector === 'faulty' && line.member === member)
        t.equal(reported.length, 1, `the ${member} failure is logged once`)
      }
    })
  }
}

test('a collector that throws in start fails app.ready() with FST_ANALYTICS_START_FAILED naming it', async (t) => {
  for (const how of ['throw', 'reject'] as Misbehaviour[]) {
    const app = Fastify()
    await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector(), faultyCollector('broken', 'start', how)] })
    await t.rejects(async () => { await app.ready() }, { code: 'FST_ANALYTICS_START_FAILED', message: /"broken".*broken start/ })
    await app.close()
  }
})

test('a start that never settles fails at startTimeoutMs', async (t) => {
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [faultyCollector('slow', 'start', 'hang')], startTimeoutMs: 100 })
  const started = Date.now()
  await t.rejects(async () => { await app.ready() }, { code: 'FST_ANALYTICS_START_FAILED', message: /"slow".*startTimeoutMs \(100 ms\)/ })
  t.ok(Date.now() - started < loaded(100), 'ready() fails at startTimeoutMs, not never')
  await app.close()
})

test('start receives a signal and a child logger bound to the collector name', async (t) => {
  const log = logCapture()
  let seen: { signal?: AbortSignal, logged?: boolean } = {}
  const collector: AnalyticsCollector = {
    name: 'probe',
    start (signal, context) {
      seen = { signal, logged: true }
      context.log.info('probe started')
    },
    collect () {},
    flush () {},
    close () {}
  }
  const app = Fastify({ logger: { stream: log.stream } })
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
  await app.ready()
  t.ok(seen.signal instanceof AbortSignal)
  t.ok(log.lines.some((line) => line.msg === 'probe started' && line.collector === 'probe' && line.plugin === 'analytics'))
  await app.close()
})

test('collect promises are bounded per collector: beyond the bound, events are dropped as queueFull', async (t) => {
  const hanging = faultyCollector('hanging', 'collect', 'hang')
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [hanging], shutdownTimeoutMs: 50 })
  await app.ready()
  for (let i = 0; i < 1100; i++) app.analytics.track({ type: EventType.Custom, eventName: 'e' })
  const during = app.analytics.stats().collectors.hanging
  t.equal(during.inFlight, 1024)
  t.equal(during.dropped.queueFull, 1100 - 1024)
  t.equal(hanging.collected, 1024, 'collect is not even called beyond the bound')
  await app.close()
  const after = app.analytics.stats().collectors.hanging
  t.equal(after.dropped.shutdown, 1024)
  assertBalanced(t, { hanging: after })
})

test('events that arrive after close are counted as closed', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
  await app.ready()
  app.analytics.track({ type: EventType.Custom, eventName: 'before' })
  await app.close()
  app.analytics.track({ type: EventType.Custom, eventName: 'after' })
  const stats = app.analytics.stats().collectors.memory
  t.equal(stats.accepted, 2)
  t.equal(stats.delivered, 1)
  t.equal(stats.dropped.closed, 1)
  assertBalanced(t, { memory: stats })
  t.equal(collector.events.length, 1)
})

test('close logs one summary line per collector with its figures', async (t) => {
  const log = logCapture()
  const app = Fastify({ logger: { stream: log.stream } })
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [memoryCollector({ name: 'a' }), faultyCollector('b', 'collect', 'throw')] })
  app.get('/', async () => 'ok')
  await app.inject('/')
  await app.close()
  const summaries = log.lines.filter((line) => typeof line.msg === 'string' && (line.msg as string).startsWith('analytics collector closed'))
  t.equal(summaries.length, 2)
  t.match(summaries.find((line) => line.collector === 'a'), { level: 30, accepted: 1, delivered: 1, dropped: { failed: 0 } })
  t.match(summaries.find((line) => line.collector === 'b'), { level: 40, accepted: 1, delivered: 0, dropped: { failed: 1 } })
})

test('failure logs are rate-limited: one line per window, however many events fail', async (t) => {
  const log = logCapture()
  const app = Fastify({ logger: { stream: log.stream } })
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [faultyCollector('noisy', 'collect', 'throw')] })
  await app.ready()
  for (let i = 0; i < 500; i++) app.analytics.track({ type: EventType.Custom, eventName: 'e' })
  const lines = log.lines.filter((line) => line.collector === 'noisy' && line.msg === 'analytics collector threw in collect()')
  t.equal(lines.length, 1)
  t.equal(app.analytics.stats().collectors.noisy.dropped.failed, 500)
  await app.close()
})

test('an in-flight request during close() is still delivered (real server)', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
  let entered: () => void = () => {}
  const inHandler = new Promise<void>((resolve) => { entered = resolve })
  app.get('/slow', async () => {
    entered()
    await sleep(150)
    return 'done'
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const response = new Promise<string>((resolve, reject) => {
    // agent: false closes the connection after the response, so close() need not wait for keep-alive.
    httpRequest({ host: '127.0.0.1', port, path: '/slow', agent: false }, (res) => {
      let body = ''
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve(body))
    }).on('error', reject).end()
  })
  await inHandler
  await app.close()
  t.equal(await response, 'done')
  t.same(collector.calls, ['start', 'flush', 'close'])
  t.equal(collector.events.length, 1, 'the event was collected before flush and close')
  t.match(collector.events[0], { path: '/slow', statusCode: 200 })
})

for (const [label, body] of [['with its whole body sent', 'data'], ['with part of its body sent', null]] as const) {
  test(`a request the client abandons ${label} gives one event with status 499`, async (t) => {
    const collector = memoryCollector()
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
    let entered: () => void = () => {}
    const inHandler = new Promise<void>((resolve) => { entered = resolve })
    // The handler finishes only once the abandonment's event is collected: its end can never be what
    // the duration measured, however late a loaded machine runs the abort.
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => { release = resolve })
    let finished: () => void = () => {}
    const handlerFinished = new Promise<void>((resolve) => { finished = resolve })
    // The 60 ms the client stays count from when the server has the request, even if a loaded machine
    // delivers it late.
    let arrived: () => void = () => {}
    const atServer = new Promise<void>((resolve) => { arrived = resolve })
    app.addHook('onRequest', async () => { arrived() })
    app.post('/upload', async () => {
      entered()
      await released
      finished()
      return 'late'
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as { port: number }).port
    const headers: Record<string, string> = { 'content-type': 'text/plain' }
    if (body === null) headers['content-length'] = '100'
    const sentAt = Date.now()
    const client = httpRequest({ host: '127.0.0.1', port, path: '/upload', method: 'POST', headers })
    client.on('error', () => {})
    if (body === null) {
      client.write('part')
      await atServer
    } else {
      client.end(body)
      await inHandler
    }
    await sleep(60)
    const lived = Date.now() - sentAt
    client.destroy()
    await collector.waitFor(1)
    // Everything the server measured happened between sending and now: an upper bound taken in this run.
    const collectedAfter = Date.now() - sentAt
    release()
    if (body !== null) await handlerFinished
    await sleep(100)
    t.equal(collector.events.length, 1, 'one event, not a second one when the handler finishes')
    t.match(collector.events[0], { type: 'action', statusCode: 499, path: '/upload' })
    // The duration runs from the request's start to the abandonment, not 0 and not to the handler's end.
    const { durationMs } = collector.events[0]
    t.ok(durationMs >= 50 && durationMs <= collectedAfter + 1, `durationMs ${durationMs} covers the ${lived} ms the client stayed (collected ${collectedAfter} ms after sending)`)
  })
}

test('app.analytics.flush flushes every collector and resolves by its deadline', async (t) => {
  const healthy = memoryCollector({ name: 'healthy' })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [healthy, faultyCollector('stuck', 'flush', 'hang')], shutdownTimeoutMs: 200 })
  await app.ready()
  const started = Date.now()
  await app.analytics.flush({ timeoutMs: 100 })
  t.ok(Date.now() - started < loaded(100), 'resolved at its deadline, not held by the stuck flush')
  t.same(healthy.calls, ['start', 'flush'])
})

test('the stats invariant holds after close with many events and several collectors', async (t) => {
  const app = Fastify()
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    collectors: [memoryCollector({ name: 'm' }), faultyCollector('r', 'collect', 'reject'), faultyCollector('h', 'collect', 'hang')],
    shutdownTimeoutMs: 100
  })
  app.get('/', async () => 'ok')
  await Promise.all(Array.from({ length: 50 }, () => app.inject('/')))
  await app.close()
  const stats = app.analytics.stats()
  t.equal(stats.events.emitted, 50)
  for (const name of ['m', 'r', 'h']) t.equal(stats.collectors[name].accepted, 50)
  assertBalanced(t, stats.collectors)
})

test('an async collect counts as delivered when its promise resolves, pending until then', async (t) => {
  const resolvers: Array<() => void> = []
  const collector: AnalyticsCollector = {
    name: 'async',
    start () {},
    collect () { return new Promise<void>((resolve) => { resolvers.push(resolve) }) },
    flush () {},
    close () {}
  }
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
  await app.ready()
  app.analytics.track({ type: EventType.Custom, eventName: 'a' })
  app.analytics.track({ type: EventType.Custom, eventName: 'b' })
  t.match(app.analytics.stats().collectors.async, { accepted: 2, delivered: 0, inFlight: 2 })
  resolvers[0]()
  await sleep(1)
  t.match(app.analytics.stats().collectors.async, { delivered: 1, inFlight: 1 })
  resolvers[1]()
  await app.close()
  const stats = app.analytics.stats().collectors.async
  t.match(stats, { delivered: 2, inFlight: 0 })
  assertBalanced(t, { async: stats })
})

test('a collector whose stats() throws or returns garbage still gets counted by the fan-out', async (t) => {
  const log = logCapture()
  const make = (name: string, stats: () => unknown): AnalyticsCollector => ({
    name, start () {}, collect () {}, flush () {}, close () {}, stats: stats as AnalyticsCollector['stats']
  })
  const app = Fastify({ logger: { stream: log.stream } })
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    collectors: [make('throws', () => { throw new Error('stats broke') }), make('garbage', () => 42)]
  })
  await app.ready()
  app.analytics.track({ type: EventType.Custom, eventName: 'a' })
  const stats = app.analytics.stats().collectors
  // Without a usable report the fan-out's own count stands, as for a collector without stats().
  t.match(stats.throws, { accepted: 1, delivered: 1 })
  t.match(stats.garbage, { accepted: 1, delivered: 1 })
  t.ok(log.lines.some((line) => line.collector === 'throws' && line.msg === 'analytics collector threw in stats()'))
  await app.close()
})

test('many collectors listening to the shared lifecycle deadline: no MaxListenersExceededWarning at start, flush or close', async (t) => {
  const warnings: string[] = []
  const onWarning = (warning: Error): void => { warnings.push(warning.name) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  // Each collector listens to the signal of every lifecycle call, as the engine and worker stand-ins do.
  const listening = (name: string): AnalyticsCollector => ({
    name,
    start (signal) { signal.addEventListener('abort', () => {}) },
    collect () {},
    flush (signal) { signal.addEventListener('abort', () => {}); signal.addEventListener('abort', () => {}) },
    close (signal) { signal.addEventListener('abort', () => {}) }
  })
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: Array.from({ length: 12 }, (_, i) => listening(`c${i}`)) })
  await app.ready()
  await app.analytics.flush()
  await app.close()
  // Warnings are emitted on the next tick.
  await sleep(10)
  t.same(warnings.filter((name) => name === 'MaxListenersExceededWarning'), [], 'no listener-leak warning')
})
