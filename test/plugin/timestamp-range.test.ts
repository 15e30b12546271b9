import { test } from 'tap'
import Fastify from 'fastify'
import analytics, { EventType, MAX_TIMESTAMP, MIN_TIMESTAMP, type AnalyticsEvent } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { logCapture, type TapTest } from '../helpers/collectors.js'

async function build (t: TapTest, options: Record<string, unknown> = {}) {
  const collector = memoryCollector()
  const log = logCapture()
  const app = Fastify({ logger: { level: 'info', stream: log.stream } })
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector], ...options })
  await app.ready()
  return { app, collector, log }
}

// Each one a built-in destination cannot store: PostgreSQL refuses year 0000 (and the whole COPY
// with it), ClickHouse's DateTime starts at the epoch (18.16 silently corrupts earlier times) and
// ends on 2106-02-07.
const UNSTORABLE = [
  new Date('0000-01-01T00:00:00.000Z'),
  new Date(Date.parse(MIN_TIMESTAMP) - 1),
  new Date(Date.parse(MAX_TIMESTAMP) + 1),
  new Date('2106-02-07T06:28:16.000Z'),
  new Date('9999-12-31T23:59:59.999Z')
]

test('track() refuses a timestamp a built-in destination cannot store: counted invalid, with the range in the log', async (t) => {
  const { app, collector, log } = await build(t)
  for (const timestamp of UNSTORABLE) app.analytics.track({ type: EventType.Custom, eventName: 'old', timestamp })
  t.equal(collector.events.length, 0, 'none reached a collector')
  t.equal(app.analytics.stats().events.invalid, UNSTORABLE.length)
  const line = log.lines.find((entry) => typeof entry.msg === 'string' && entry.msg.includes('event.timestamp'))
  t.match(line?.msg, `from ${MIN_TIMESTAMP} to ${MAX_TIMESTAMP}`, 'the log says which range is storable')
})

test('the range ends are storable and kept as given', async (t) => {
  const { app, collector } = await build(t)
  app.analytics.track({ type: EventType.Custom, eventName: 'first', timestamp: new Date(MIN_TIMESTAMP) })
  app.analytics.track({ type: EventType.Custom, eventName: 'last', timestamp: new Date(MAX_TIMESTAMP) })
  t.same(collector.events.map((event) => event.timestamp), [MIN_TIMESTAMP, MAX_TIMESTAMP])
  t.equal(app.analytics.stats().events.invalid, 0)
})

test('a beforeSend result with an unstorable timestamp is dropped and counted beforeSendFailed', async (t) => {
  const { app, collector } = await build(t, {
    beforeSend: (event: AnalyticsEvent) => ({ ...event, timestamp: new Date('1969-12-31T23:59:59.000Z') })
  })
  app.analytics.track({ type: EventType.Custom, eventName: 'rewritten' })
  t.equal(collector.events.length, 0)
  t.equal(app.analytics.stats().events.beforeSendFailed, 1)
})
