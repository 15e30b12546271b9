import { test } from 'tap'
import Fastify from 'fastify'
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import pino from 'pino'
import { join } from 'node:path'
import analytics, { EventType, Money } from '../../lib/index.js'
import { stdoutCollector } from '../../lib/collectors/stdout.js'
import { logCapture, COUNT_EVERYTHING } from '../helpers/collectors.js'
import { waitUntil } from '../helpers/timing.js'

test('one NDJSON line per event, written to the destination by the time close() returns', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'events.ndjson')
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [stdoutCollector({ destination: file })] })
  app.post('/checkout', async (request) => {
    request.analytics.setRevenue(Money.fromMinor(1500, 'KWD'))
    request.analytics.addProperty('plan', 'annual')
    return 'ok'
  })
  await app.inject({ method: 'POST', url: '/checkout', headers: { host: 'shop.example' } })
  app.analytics.track({ type: EventType.Custom, eventName: 'job.done' })
  await app.close()
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  t.equal(lines.length, 2)
  t.match(lines[0], {
    level: 30,
    msg: 'analytics event',
    event: { type: 'action', actionName: 'POST /checkout', hostname: 'shop.example', revenue: { amount: '1.500', currency: 'KWD' }, properties: { plan: 'annual' } }
  })
  t.notOk('pid' in lines[0], 'no pid/hostname base fields')
  t.match(lines[1], { event: { type: 'custom', eventName: 'job.done' } })
  t.equal(app.analytics.stats().collectors.stdout.delivered, 2)
})

test('a stream the app owns gets the lines and is not closed; level and name are honoured', async (t) => {
  const capture = logCapture()
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [stdoutCollector({ destination: capture.stream, level: 'debug', name: 'dev-log' })] })
  app.get('/', async () => 'ok')
  await app.inject('/')
  await app.close()
  t.equal(capture.lines.length, 1)
  t.match(capture.lines[0], { level: 20, event: { type: 'pageview', path: '/' } })
  t.notOk(capture.stream.destroyed)
  t.ok(app.analytics.stats().collectors['dev-log'])
})

test('every level writes the number pino gives it (the collector spells them without loading pino)', async (t) => {
  const levels = Object.keys(pino.levels.values) as Array<keyof typeof pino.levels.values>
  t.ok(levels.length >= 6)
  for (const level of levels) {
    const capture = logCapture()
    const app = Fastify()
    await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [stdoutCollector({ destination: capture.stream, level: level as 'info' })] })
    app.get('/', async () => 'ok')
    await app.inject('/')
    await app.close()
    t.equal(capture.lines[0]?.level, pino.levels.values[level], `level ${level}`)
  }
})

test('bad options throw FST_ANALYTICS_INVALID_OPTION', async (t) => {
  t.throws(() => stdoutCollector({ level: 'loud' as never }), { code: 'FST_ANALYTICS_INVALID_OPTION' })
  t.throws(() => stdoutCollector({ name: '' }), { code: 'FST_ANALYTICS_INVALID_OPTION' })
  t.throws(() => stdoutCollector({ destination: {} as never }), { code: 'FST_ANALYTICS_INVALID_OPTION' })
  t.throws(() => stdoutCollector(null as never), { code: 'FST_ANALYTICS_INVALID_OPTION' })
})

/** What the file holds so far ('' before the destination has created it). */
function written (file: string): string {
  try { return readFileSync(file, 'utf8') } catch { return '' }
}

test('lines are buffered, written by the periodic flush, and all on disk after close', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'buffered.ndjson')
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [stdoutCollector({ destination: file, bufferBytes: 8192, flushIntervalMs: 50 })] })
  await app.ready()
  app.analytics.track({ type: EventType.Custom, eventName: 'one' })
  // Only the 50 ms periodic flush can write it: the line is far smaller than the 8 KiB buffer.
  await waitUntil(() => written(file) !== '', 'the periodic flush')
  t.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1, 'the periodic flush wrote a line smaller than the buffer')
  for (let i = 0; i < 500; i++) app.analytics.track({ type: EventType.Custom, eventName: `e${i}` })
  await app.analytics.flush()
  t.equal(readFileSync(file, 'utf8').trim().split('\n').length, 501, 'flush() writes everything buffered')
  await app.close()
  t.equal(app.analytics.stats().collectors.stdout.delivered, 501)
})

test('flushIntervalMs bounds how long a line waits, however steadily lines keep arriving', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'steady.ndjson')
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [stdoutCollector({ destination: file, bufferBytes: 16_383, flushIntervalMs: 200 })] })
  t.teardown(() => app.close())
  await app.ready()
  // One line (under 700 bytes) every 100 ms for 2 s: 20 never fill the largest buffer (16 KiB), so only the interval writes. An
  // interval pushed back by each new line would write nothing until the lines stop.
  const started = Date.now()
  let firstWrite = -1
  for (let i = 0; i < 20; i++) {
    app.analytics.track({ type: EventType.Custom, eventName: `steady-${i}` })
    await new Promise((resolve) => setTimeout(resolve, 100))
    if (firstWrite < 0 && written(file) !== '') firstWrite = Date.now() - started
  }
  // The promise is 200 ms; the slack is for a loaded machine, and still short of the 2 s the lines keep coming.
  t.ok(firstWrite >= 0 && firstWrite < 1500, `the first line was written while lines kept arriving (after ${firstWrite} ms; the interval is 200 ms)`)
})

test('bufferBytes: 0 writes each line at once; bad buffering options are refused', async (t) => {
  const file = join(t.testdir(), 'unbuffered.ndjson')
  const app = Fastify()
  // A minute-long flush interval: only an immediate write can put the line in the file in time.
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [stdoutCollector({ destination: file, bufferBytes: 0, flushIntervalMs: 60_000 })] })
  await app.ready()
  app.analytics.track({ type: EventType.Custom, eventName: 'now' })
  await waitUntil(() => written(file) !== '', 'the line to reach the file')
  t.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1)
  await app.close()
  t.throws(() => stdoutCollector({ bufferBytes: -1 }), { code: 'FST_ANALYTICS_INVALID_OPTION' })
  t.throws(() => stdoutCollector({ bufferBytes: 1 << 20 }), { code: 'FST_ANALYTICS_INVALID_OPTION' })
  t.throws(() => stdoutCollector({ flushIntervalMs: 0 }), { code: 'FST_ANALYTICS_INVALID_OPTION' })
})

test('a stream the app owns that emits \'error\' does not crash the app: its lines count failed from then on', async (t) => {
  let writes = 0
  const stream = new Writable({
    write (_chunk, _encoding, callback) {
      writes++
      // The third write fails as a full disk would; Node emits 'error' on the stream.
      callback(writes === 3 ? Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }) : null)
    }
  })
  const log = logCapture()
  const app = Fastify({ logger: { level: 'warn', stream: log.stream } })
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [stdoutCollector({ destination: stream })] })
  await app.ready()
  for (let i = 0; i < 10; i++) {
    app.analytics.track({ type: EventType.Custom, eventName: `e${i}` })
    await new Promise((resolve) => setImmediate(resolve))
  }
  await app.close()
  const stats = app.analytics.stats().collectors.stdout
  t.equal(stats.accepted, 10)
  t.equal(stats.delivered, 3, 'the lines the stream took before it failed')
  t.equal(stats.dropped.failed, 7)
  t.match(log.lines.filter((line) => String(line.msg).includes('stream failed')), [{ code: 'ENOSPC' }], 'logged once')
})

test('a stream the app owns that stops draining: lines stop at maxQueueBytes of its buffer, counted queueFull', async (t) => {
  // Never calls back: everything after the first write stays in writableLength.
  const stream = new Writable({ highWaterMark: 1024, write () {} })
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, shutdownTimeoutMs: 200, collectors: [stdoutCollector({ destination: stream, maxQueueBytes: 10_000 })] })
  await app.ready()
  for (let i = 0; i < 200; i++) app.analytics.track({ type: EventType.Custom, eventName: `e${i}` })
  t.ok(stream.writableLength <= 10_000 + 2000, `the stream holds ${stream.writableLength} bytes, one line past the bound at most`)
  await app.close()
  const stats = app.analytics.stats().collectors.stdout
  t.ok(stats.dropped.queueFull > 150, `the rest counted queueFull (${stats.dropped.queueFull})`)
  t.equal(stats.accepted, stats.delivered + stats.dropped.queueFull)
})
