// CollectorContext.onStatsChange: a collector's own callback, told of every change to its stats()
// (the delivery worker publishes its figures with it). Per collector, never process-wide.
import { join } from 'node:path'
import { test } from 'tap'
import type { DeliveryReport } from '../../lib/collector.js'
import { createEvent, EventType, type AnalyticsEvent } from '../../lib/event.js'
import { stdoutCollector } from '../../lib/collectors/stdout.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { logCapture } from '../helpers/collectors.js'
import { startSink } from '../helpers/sink.js'

function anEvent (): AnalyticsEvent {
  const event = createEvent(EventType.Custom, new Date())
  event.eventName = 'job.done'
  event.userAgent = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'
  return event
}

interface Change {
  beforeRequest: boolean
  /** Requests the sink had received when the callback ran. */
  received: number
  stats: DeliveryReport
}

test('an engine collector reports every change to its own callback, and a batch before its request leaves', async (t) => {
  const sink = await startSink()
  t.teardown(() => sink.close())
  const url = `${sink.origin}/hook`
  const mine = webhookCollector({ url, maxBatchSize: 2, name: 'mine' })
  const other = webhookCollector({ url, maxBatchSize: 2, name: 'other' })
  const changes: Change[] = []
  let otherChanges = 0
  mine.start(new AbortController().signal, {
    log: logCapture().log,
    onStatsChange: (beforeRequest) => changes.push({ beforeRequest, received: sink.requests.length, stats: mine.stats() })
  })
  other.start(new AbortController().signal, { log: logCapture().log, onStatsChange: () => { otherChanges++ } })

  mine.collect(anEvent())
  mine.collect(anEvent())
  t.same(changes.map((c) => c.beforeRequest), [false, false], 'each event received is a change, reported at once')
  t.equal(otherChanges, 0, 'another collector\'s callback hears nothing of it')

  await mine.flush(AbortSignal.timeout(5000))
  const taken = changes.find((c) => c.beforeRequest)
  t.ok(taken, 'the batch taken for a request was reported as such')
  t.equal(taken?.received, 0, 'before the request reached the destination')
  t.match(taken?.stats, { queued: 0, inFlight: 2, delivered: 0 }, 'with the events in flight')
  const last = changes[changes.length - 1]
  t.equal(last.beforeRequest, false)
  t.match(last.stats, { delivered: 2, queued: 0, inFlight: 0 }, 'the last change is the delivery')
  t.equal(sink.requests.length, 1)

  other.collect(anEvent())
  t.equal(otherChanges, 1, 'and each collector hears of its own events')
  const before = changes.length
  await other.close(AbortSignal.timeout(5000))
  await mine.close(AbortSignal.timeout(5000))
  t.equal(changes.length, before, 'closing an idle collector changes nothing it reports')
})

test('stdout reports its own changes too, up to the lines written', async (t) => {
  const file = join(t.testdir(), 'events.ndjson')
  const stdout = stdoutCollector({ destination: file })
  const delivered: number[] = []
  stdout.start(new AbortController().signal, { log: logCapture().log, onStatsChange: () => delivered.push(stdout.stats?.().delivered ?? -1) })
  for (let i = 0; i < 3; i++) stdout.collect(anEvent())
  t.same(delivered, [0, 0, 0], 'each line received is reported at once')
  await stdout.flush(AbortSignal.timeout(5000))
  t.equal(delivered[delivered.length - 1], 3, 'the write that delivered them is reported')
  await stdout.close(AbortSignal.timeout(5000))
})
