import { test } from 'tap'
import { checkBalance, itemsOf, never, perItemAdapter, setup, sleep, until } from '../helpers/engine-harness.js'
import { loaded, SCHEDULING_SLACK_MS } from '../helpers/timing.js'

test('a full batch is sent at once, without waiting for the interval', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 5, flushIntervalMs: 60_000 })
  const started = Date.now()
  h.enqueue(0, 5)
  checkBalance(t, h)
  await sink.waitForRequests(1)
  t.ok(Date.now() - started < SCHEDULING_SLACK_MS, 'sent at once, not after the 60 s interval')
  t.same(itemsOf(sink.requests[0]), [0, 1, 2, 3, 4])
  h.enqueue(5, 3)
  await sleep(100)
  t.equal(sink.requests.length, 1, 'a partial batch waits for the interval')
  t.equal(h.stats().queued, 3)
  checkBalance(t, h)
  await h.engine.close(AbortSignal.timeout(2000))
  t.same(sink.requests.map(itemsOf), [[0, 1, 2, 3, 4], [5, 6, 7]], 'close sends the partial batch')
  t.match(h.stats(), { delivered: 8, retries: 0 })
  checkBalance(t, h, true)
})

test('a partial batch is sent once flushIntervalMs has passed since its oldest item', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 100, flushIntervalMs: 150 })
  const started = Date.now()
  h.enqueue(0, 2)
  await sleep(50)
  h.enqueue(2, 1) // a later item does not push the deadline back
  await sink.waitForRequests(1)
  const waited = sink.requests[0].receivedAt - started
  t.ok(waited >= 140 && waited < loaded(150), `sent after ${waited} ms`)
  t.same(itemsOf(sink.requests[0]), [0, 1, 2])
  checkBalance(t, h)

  const second = Date.now()
  h.enqueue(3, 1)
  await sink.waitForRequests(2)
  const waitedAgain = sink.requests[1].receivedAt - second
  t.ok(waitedAgain >= 140 && waitedAgain < loaded(150), `the interval starts again with the next item (${waitedAgain} ms)`)
  await until(() => h.stats().delivered === 4)
  checkBalance(t, h)
})

test('never more than `concurrency` requests open against a hanging destination', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 1, concurrency: 2, timeoutMs: 10_000 })
  sink.setPolicy(() => ({ kind: 'hang' }))
  h.enqueue(0, 10)
  await sink.waitForRequests(2)
  await sleep(200)
  t.equal(sink.requests.length, 2, 'two requests open, the rest wait')
  t.match(h.stats(), { queued: 8, inFlight: 2 })
  checkBalance(t, h)
  await h.engine.close(AbortSignal.timeout(100))
  t.match(h.stats(), { dropped: { shutdown: 10 } })
  checkBalance(t, h, true)
})

test('a batch split into many requests still sends only `concurrency` at a time', async (t) => {
  const { sink, h } = await setup(t, { adapter: perItemAdapter(), maxBatchSize: 10, concurrency: 3, timeoutMs: 10_000 })
  sink.setPolicy(() => ({ kind: 'hang' }))
  h.enqueue(0, 10)
  await sink.waitForRequests(3)
  await sleep(200)
  t.equal(sink.requests.length, 3)
  t.match(h.stats(), { queued: 0, inFlight: 10 }, 'the whole batch is out of the queue, waiting for slots')
  checkBalance(t, h)
  await h.engine.close(AbortSignal.timeout(100))
  t.match(h.stats(), { dropped: { shutdown: 10 } })
  checkBalance(t, h, true)
})

test('the queue is bounded when the destination hangs: the new events are dropped as queueFull', async (t) => {
  const maxQueueSize = 20
  const maxBatchSize = 5
  const concurrency = 2
  const { sink, h, logs } = await setup(t, { maxQueueSize, maxBatchSize, concurrency, timeoutMs: 10_000 })
  sink.setPolicy(() => ({ kind: 'hang' }))
  for (let round = 0; round < 10; round++) {
    h.enqueue(round * maxQueueSize, maxQueueSize)
    const { queued, inFlight } = h.stats()
    t.ok(queued <= maxQueueSize, `queued ${queued} ≤ ${maxQueueSize}`)
    t.ok(queued + inFlight <= maxQueueSize + concurrency * maxBatchSize, 'memory bound')
    checkBalance(t, h)
    await sleep(5)
  }
  const stats = h.stats()
  t.equal(stats.queued, maxQueueSize)
  t.equal(stats.inFlight, concurrency * maxBatchSize)
  t.equal(stats.dropped.queueFull, 10 * maxQueueSize - maxQueueSize - concurrency * maxBatchSize)
  t.same(itemsOf(sink.requests[0]), [0, 1, 2, 3, 4], 'the oldest events are kept, the new ones dropped')
  t.match(logs.text(), /queue full/)
  await h.engine.close(AbortSignal.timeout(100))
  checkBalance(t, h, true)
})

test('a burst larger than the queue in one turn: the batches a free slot would send leave the queue first, so only what exceeds maxQueueSize + concurrency × maxBatchSize is queueFull', async (t) => {
  // The shape of a worker's hand-over (hundreds of requests' events in one message) or of a job
  // calling track() in a loop: the pump has had no turn between the events.
  const maxQueueSize = 10
  const maxBatchSize = 5
  const concurrency = 2
  const { sink, h } = await setup(t, { maxQueueSize, maxBatchSize, concurrency, timeoutMs: 10_000 })
  sink.setPolicy(() => ({ kind: 'hang' }))
  h.enqueue(0, 25)
  const burst = h.stats()
  t.match(burst, { queued: maxQueueSize, inFlight: concurrency * maxBatchSize, dropped: { queueFull: 25 - maxQueueSize - concurrency * maxBatchSize } })
  t.equal(sink.requests.length, 0, 'no request is made inside enqueue: the pump makes it')
  checkBalance(t, h)
  await sink.waitForRequests(concurrency)
  t.same(sink.requests.map(itemsOf).sort((a, b) => a[0] - b[0]), [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]], 'the oldest events went first')
  // Every slot busy: a full queue refuses, as before.
  h.enqueue(25, 1)
  t.match(h.stats(), { queued: maxQueueSize, inFlight: concurrency * maxBatchSize, dropped: { queueFull: 25 - maxQueueSize - concurrency * maxBatchSize + 1 } })
  await h.engine.close(AbortSignal.timeout(100))
  checkBalance(t, h, true)
})

test('a burst larger than the queue while a request waits to retry: the queue absorbs, nothing more is taken out', async (t) => {
  const { sink, h, logs } = await setup(t, { maxQueueSize: 10, maxBatchSize: 5, concurrency: 2, retry: { baseDelayMs: 60_000, maxDelayMs: 60_000, maxAttempts: 2 } })
  sink.setPolicy(() => ({ kind: 'respond', status: 503 }))
  h.enqueue(0, 5)
  await until(() => /will retry/.test(logs.text()), 3000, 'the first attempt to fail')
  h.enqueue(5, 15)
  t.match(h.stats(), { queued: 10, inFlight: 5, dropped: { queueFull: 5 } }, 'the second slot stays unused while the first batch waits to retry')
  await h.engine.close(AbortSignal.timeout(100))
  checkBalance(t, h, true)
})

test('flush resolves once everything enqueued before it is delivered', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 4, flushIntervalMs: 60_000 })
  h.enqueue(0, 10)
  await h.engine.flush(never())
  t.match(h.stats(), { delivered: 10, queued: 0, inFlight: 0 })
  t.same(sink.requests.map(itemsOf), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
  checkBalance(t, h)
  await h.engine.flush(never())
  t.pass('a flush with nothing to do resolves at once')
})

test('flush waits for slow requests of earlier batches, not for events enqueued after it', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 1, concurrency: 2, flushIntervalMs: 60_000 })
  sink.setPolicy((request) => itemsOf(request)[0] === 0
    ? { kind: 'delay', ms: 200, status: 200 }
    : { kind: 'respond', status: 200 })
  h.enqueue(0, 2)
  const flushed = h.engine.flush(never())
  h.enqueue(2, 1)
  await flushed
  t.ok(h.stats().delivered >= 2, 'the slow first request was waited for')
  checkBalance(t, h)
  await until(() => h.stats().delivered === 3)
})

test('flush resolves at the signal with a dead destination; the events stay queued or in flight', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 5, concurrency: 1, timeoutMs: 10_000 })
  sink.setPolicy(() => ({ kind: 'hang' }))
  h.enqueue(0, 12)
  const started = Date.now()
  await h.engine.flush(AbortSignal.timeout(150))
  const elapsed = Date.now() - started
  t.ok(elapsed >= 140 && elapsed < loaded(150), `resolved at the signal (${elapsed} ms), not at the 10 s timeout`)
  t.match(h.stats(), { delivered: 0, queued: 7, inFlight: 5 })
  checkBalance(t, h)
  await h.engine.flush(AbortSignal.abort())
  t.pass('an aborted signal resolves at once')
  await h.engine.close(AbortSignal.timeout(50))
  t.match(h.stats(), { dropped: { shutdown: 12 } })
  checkBalance(t, h, true)
})

test('events enqueued before start wait for it, then go out', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 3 })
  const { Harness } = await import('../helpers/engine-harness.js')
  const early = new Harness({ origin: sink.origin, maxBatchSize: 3, flushIntervalMs: 30 })
  t.teardown(() => early.engine.close(AbortSignal.timeout(200)))
  early.enqueue(0, 4)
  await sleep(100)
  t.equal(sink.requests.length, 0, 'nothing is sent before start')
  early.engine.start(never(), (await import('../../lib/log.js')).silentLogger)
  await until(() => early.stats().delivered === 4)
  checkBalance(t, early)
  checkBalance(t, h)
})

test('high concurrency: no listener-leak warning, and all requests open at once', async (t) => {
  const warnings: Error[] = []
  const onWarning = (warning: Error): void => { warnings.push(warning) }
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  const { sink, h } = await setup(t, { adapter: perItemAdapter(), maxBatchSize: 30, concurrency: 30, timeoutMs: 10_000 })
  sink.setPolicy(() => ({ kind: 'delay', ms: 100, status: 202 }))
  h.enqueue(0, 30)
  await sink.waitForRequests(30, 2000)
  await h.engine.flush(never())
  t.equal(h.stats().delivered, 30)
  await sleep(20)
  t.same(warnings.map((w) => w.name), [], 'no MaxListenersExceededWarning')
  checkBalance(t, h)
})

test('a deep queue drained one item per request keeps FIFO order through queue compaction', async (t) => {
  // 3000 items and one-item batches: the head index passes the compaction point (1024) twice.
  const { sink, h } = await setup(t, { adapter: perItemAdapter(), maxBatchSize: 1, concurrency: 1, maxQueueSize: 5000 })
  h.enqueue(0, 3000)
  t.equal(h.stats().queued, 3000)
  await h.engine.close(AbortSignal.timeout(20_000))
  t.equal(sink.requests.length, 3000)
  t.same(sink.requests.map((request) => itemsOf(request)[0]), Array.from({ length: 3000 }, (_, i) => i))
  t.match(h.stats(), { delivered: 3000 })
  checkBalance(t, h, true)
})
