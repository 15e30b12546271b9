// One encoding per event: stdout writes its pino line around the event's shared JSON string, and
// webhook batches join the same strings. The contract is the bytes: a stdout line is the line pino
// wrote before, and stdout and webhook under one ip policy carry byte-identical events.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import pino, { type Level } from 'pino'
import analytics, { EventType, Money, type AnalyticsCollector } from '../../lib/index.js'
import { stdoutCollector } from '../../lib/collectors/stdout.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { memoryCollector } from '../../lib/testing.js'
import { assertBalanced, COUNT_EVERYTHING, logCapture, type TapTest } from '../helpers/collectors.js'
import { startSink } from '../helpers/sink.js'
import { webhookRules } from '../servers/webhook-rules.js'

const HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) "quoted" Chrome/126.0.0.0',
  'accept-language': 'en-GB,en;q=0.9',
  referer: 'https://www.example.com/search?q=bench',
  'x-forwarded-for': '203.0.113.50',
  host: 'shop.example'
}
// JSON's awkward corners: escapes, a control character, astral and lone surrogates, `__proto__` as data.
const AWKWARD = { quote: 'say "hi"\\', control: 'a\u0001b\n', emoji: '😀 £', lone: 'x\ud800y', ['__proto__']: 'data', n: 42, yes: true }

/** The events' raw JSON in stdout lines (between `"event":` and `,"msg"`), in order. */
function eventsInLines (text: string): string[] {
  return text.trim().split('\n').map((line) => line.slice(line.indexOf(',"event":') + 9, line.lastIndexOf(',"msg":')))
}

/** The events' raw JSON in one webhook body (its `events` array without the brackets). */
function eventsInBody (body: string): string {
  return body.slice(body.indexOf(',"events":[') + 11, -2)
}

async function traffic (app: FastifyInstance): Promise<void> {
  app.post('/checkout', async (request) => {
    request.analytics.setRevenue(Money.fromMinor(1500, 'KWD'))
    for (const [key, value] of Object.entries(AWKWARD)) request.analytics.addProperty(key, value)
    return 'ok'
  })
  app.get('/products/:id', async (_request, reply) => reply.type('text/html').send('<p>product</p>'))
  await app.inject({ url: '/products/1042', headers: HEADERS })
  await app.inject({ method: 'POST', url: '/checkout', headers: HEADERS })
  await app.inject({ url: '/nowhere?utm_source=news', headers: HEADERS })
  app.analytics.track({ type: EventType.Custom, eventName: 'job.done', properties: AWKWARD })
}

for (const level of ['info', 'warn'] as Level[]) {
  test(`a stdout line at level ${level} is byte for byte the line pino writes for the event`, async (t) => {
    const capture = logCapture()
    const memory = memoryCollector()
    const app = Fastify({ trustProxy: '127.0.0.1' })
    await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [stdoutCollector({ destination: capture.stream, level }), memory] })
    await traffic(app)
    await app.close()

    // What the collector wrote before it built lines itself: pino with its options, given the JSON form.
    const raw: string[] = []
    const sink = new Writable({ write (chunk: Buffer, _encoding, callback) { raw.push(chunk.toString()); callback() } })
    const reference = pino({ level, base: undefined, messageKey: 'msg' }, sink)
    for (const snapshot of memory.events) reference[level]({ event: { ...snapshot, clientIP: snapshot.clientIP === '' ? '' : '203.0.113.0' } }, 'analytics event')

    const untimed = (text: string): string => text.replace(/^\{"level":(\d+),"time":\d+,/gm, '{"level":$1,"time":0,')
    t.equal(memory.events.length, 4)
    t.equal(untimed(capture.text()), untimed(raw.join('')), 'the same bytes, apart from the time')
    t.equal(capture.lines.length, 4, 'every line parses')
    for (const line of capture.lines) t.ok(Math.abs((line.time as number) - Date.now()) < 60_000, 'time is epoch milliseconds')
    // A lone surrogate never reaches a collector: it becomes U+FFFD where the property enters.
    t.equal((capture.lines[1].event as { properties: Record<string, string> }).properties.lone, 'x\ufffdy')
  })
}

test('pino.multistream as the destination still routes lines by their level', async (t) => {
  const capture = logCapture()
  const app = Fastify()
  // The multistream's own level is warn: info lines are not for it, warn lines are.
  const streams = pino.multistream([{ level: 'warn', stream: capture.stream }])
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    collectors: [
      stdoutCollector({ destination: streams, level: 'info', name: 'quiet' }),
      stdoutCollector({ destination: streams, level: 'warn', name: 'loud' })
    ]
  })
  await app.inject({ url: '/', headers: HEADERS })
  await app.close()
  t.equal(capture.lines.length, 1)
  t.match(capture.lines[0], { level: 40, msg: 'analytics event', event: { type: 'pageview', path: '/' } })
})

async function sharedBytes (t: TapTest, delivery: 'inline' | 'worker'): Promise<void> {
  const hook = await startSink({ validate: webhookRules({ path: '/hook' }) })
  t.teardown(() => hook.close())
  const dir = t.testdir()
  const file = (name: string): string => join(dir, `${name}.ndjson`)
  const app = Fastify({ trustProxy: '127.0.0.1', pluginTimeout: 60_000 })
  t.teardown(() => app.close())
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    delivery,
    startTimeoutMs: 60_000,
    collectors: [
      stdoutCollector({ destination: file('truncate') }),
      stdoutCollector({ destination: file('full'), ip: 'full', name: 'stdout-full' }),
      webhookCollector({ url: `${hook.origin}/hook`, maxBatchSize: 100 }),
      stdoutCollector({ destination: file('none'), ip: 'none', name: 'stdout-none' }),
      webhookCollector({ url: `${hook.origin}/hook`, ip: 'full', name: 'webhook-full', maxBatchSize: 100 })
    ]
  })
  await traffic(app)
  await app.close()
  assertBalanced(t, app.analytics.stats().collectors)

  t.same(hook.violations, [])
  t.equal(hook.requests.length, 2, 'one batch per webhook collector')
  const bodies = hook.requests.map((request) => eventsInBody(request.body.toString('utf8')))
  const lines = Object.fromEntries(['truncate', 'full', 'none'].map((name) => [name, eventsInLines(readFileSync(file(name), 'utf8'))]))
  t.equal(lines.truncate.length, 4)
  // Which body came from which collector: the full IP is in one of them only.
  const [truncated, full] = bodies[0].includes('"clientIP":"203.0.113.50"') ? [bodies[1], bodies[0]] : bodies
  t.equal(truncated, lines.truncate.join(','), 'stdout and webhook under the default policy carry the same bytes')
  t.equal(full, lines.full.join(','), 'and under ip: full')
  for (let i = 0; i < 4; i++) {
    t.equal(lines.truncate[i].replace('"clientIP":"203.0.113.0"', '"clientIP":"203.0.113.50"'), lines.full[i], 'policies differ in clientIP only')
    t.equal(lines.truncate[i].replace('"clientIP":"203.0.113.0"', '"clientIP":""'), lines.none[i])
  }
}

test('stdout and webhook on one app write byte-identical events per ip policy', async (t) => {
  await sharedBytes(t, 'inline')
})

test('worker mode: stdout and webhook in the delivery worker write byte-identical events per ip policy', async (t) => {
  await sharedBytes(t, 'worker')
})

test('a collector handed a changed copy of the event writes the copy, not the shared string of the original', async (t) => {
  const plain = logCapture()
  const wrapped = logCapture()
  const inner = stdoutCollector({ destination: wrapped.stream, name: 'inner' })
  // A wrapper that strips the user id before a built-in collector sees the event: its copy has the
  // original's id and timestamp, and must still be encoded on its own.
  const stripping: AnalyticsCollector = {
    name: 'stripping',
    start: (signal, context) => inner.start(signal, context),
    collect: (event) => inner.collect({ ...event, userId: '' }),
    flush: (signal) => inner.flush(signal),
    close: (signal) => inner.close(signal)
  }
  const app = Fastify()
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [stdoutCollector({ destination: plain.stream }), stripping] })
  app.analytics.track({ type: EventType.Custom, eventName: 'signed.in', userId: 'user-42' })
  await app.close()
  t.match(plain.lines, [{ event: { eventName: 'signed.in', userId: 'user-42' } }])
  t.match(wrapped.lines, [{ event: { eventName: 'signed.in', userId: '' } }])
})
