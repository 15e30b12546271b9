import { test } from 'tap'
import { checkBalance, Harness, itemsOf, never, setup, sleep } from '../helpers/engine-harness.js'
import { logCapture } from '../helpers/collectors.js'
import { loaded } from '../helpers/timing.js'

test('close delivers everything queued with a healthy destination', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 4, flushIntervalMs: 60_000 })
  h.enqueue(0, 10)
  await h.engine.close(AbortSignal.timeout(3000))
  t.same(sink.requests.flatMap(itemsOf), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  t.match(h.stats(), { delivered: 10, dropped: { shutdown: 0, failed: 0 } })
  checkBalance(t, h, true)
})

test('close with a hanging destination returns at the deadline and counts the rest as shutdown', async (t) => {
  const { sink, h, logs } = await setup(t, { maxBatchSize: 5, concurrency: 2, timeoutMs: 10_000 })
  sink.setPolicy(() => ({ kind: 'hang' }))
  h.enqueue(0, 23)
  await sink.waitForRequests(2)
  const started = Date.now()
  await h.engine.close(AbortSignal.timeout(300))
  const elapsed = Date.now() - started
  // The destination would hold it for timeoutMs (10 s): far beyond the deadline and its slack.
  t.ok(elapsed < loaded(300), `returned ${elapsed} ms after close (deadline 300 ms)`)
  t.match(h.stats(), { delivered: 0, dropped: { shutdown: 23 } })
  t.match(logs.text(), /shutdown deadline reached/)
  checkBalance(t, h, true)
})

test('close during a retry wait cancels the wait and counts the events as shutdown', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 2, concurrency: 1, retry: { baseDelayMs: 10_000, maxDelayMs: 10_000, maxAttempts: 5 } })
  sink.setPolicy(() => ({ kind: 'respond', status: 503, headers: { 'retry-after': '10' } }))
  h.enqueue(0, 5)
  await sink.waitForRequests(1)
  await sleep(50)
  const started = Date.now()
  await h.engine.close(AbortSignal.timeout(200))
  t.ok(Date.now() - started < loaded(200), 'returned at the deadline, not after the 10 s Retry-After')
  t.equal(sink.requests.length, 1, 'no retry after close')
  t.match(h.stats(), { delivered: 0, dropped: { shutdown: 5 } })
  checkBalance(t, h, true)
})

test('close is idempotent: a second call returns the same promise', async (t) => {
  const { h } = await setup(t)
  h.enqueue(0, 3)
  const first = h.engine.close(AbortSignal.timeout(2000))
  const second = h.engine.close(AbortSignal.abort())
  t.equal(first, second)
  await second
  t.match(h.stats(), { delivered: 3 }, 'the second call\'s aborted signal changed nothing')
  t.equal(h.engine.close(never()), first)
  checkBalance(t, h, true)
})

test('after close, enqueue counts `closed` and flush resolves at once', async (t) => {
  const { sink, h } = await setup(t)
  await h.engine.close(AbortSignal.timeout(1000))
  h.enqueue(0, 4)
  h.drop('invalid', 2)
  t.match(h.stats(), { delivered: 0, queued: 0, dropped: { closed: 4, invalid: 2 } })
  await h.engine.flush(never())
  await sleep(30)
  t.equal(sink.requests.length, 0)
  checkBalance(t, h, true)
})

test('close with an already aborted signal counts everything as shutdown at once', async (t) => {
  const { h } = await setup(t, { flushIntervalMs: 60_000 })
  h.enqueue(0, 3)
  await h.engine.close(AbortSignal.abort())
  t.match(h.stats(), { delivered: 0, dropped: { shutdown: 3 } })
  checkBalance(t, h, true)
})

test('close resolves pending flushes', async (t) => {
  const { sink, h } = await setup(t, { timeoutMs: 10_000 })
  sink.setPolicy(() => ({ kind: 'hang' }))
  h.enqueue(0, 3)
  const flushed = h.engine.flush(never())
  await h.engine.close(AbortSignal.timeout(100))
  await flushed
  t.match(h.stats(), { dropped: { shutdown: 3 } })
  checkBalance(t, h, true)
})

test('close of an engine never started still delivers what was queued', async (t) => {
  const { startSink } = await import('../helpers/sink.js')
  const sink = await startSink()
  t.teardown(() => sink.close())
  const h = new Harness({ origin: sink.origin, flushIntervalMs: 60_000 })
  h.enqueue(0, 3)
  await h.engine.close(AbortSignal.timeout(2000))
  t.equal(h.stats().delivered, 3)
  checkBalance(t, h, true)
})

test('start with a logger: lines go to it; start twice is harmless', async (t) => {
  const { h, sink } = await setup(t, { maxBatchSize: 1 })
  const other = logCapture()
  h.engine.start(never(), other.log)
  sink.setPolicy(() => ({ kind: 'respond', status: 422 }))
  h.enqueue(0)
  await h.engine.flush(never())
  t.match(other.text(), /rejected/, 'the latest logger is used')
  checkBalance(t, h)
})
