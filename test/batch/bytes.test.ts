// The engine's bounds in bytes: maxQueueBytes (the excess counted queueFull) and maxBatchBytes (a
// batch ends before the item that would pass it), with each item's size from `itemBytes`, and the
// string default the warehouse and webhook collectors rely on.
import { test } from 'tap'
import { DeliveryEngine } from '../../lib/batch/engine.js'
import { DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_QUEUE_BYTES, defaultItemBytes, resolveSettings } from '../../lib/batch/settings.js'
import { batchAdapter, checkBalance, itemsOf, setup, sleep, until, type Item } from '../helpers/engine-harness.js'

const KB = (): number => 1000

test('the queue is bounded in bytes when the destination hangs: what would pass maxQueueBytes is dropped as queueFull, the oldest kept', async (t) => {
  const { sink, h, logs } = await setup(t, { maxQueueSize: 10_000, maxQueueBytes: 10_000, maxBatchSize: 5, concurrency: 2, timeoutMs: 10_000, itemBytes: KB })
  sink.setPolicy(() => ({ kind: 'hang' }))
  for (let round = 0; round < 5; round++) {
    h.enqueue(round * 100, 100)
    t.ok(h.stats().queued <= 10, `queued ${h.stats().queued} items of 1000 bytes ≤ 10 000 bytes`)
    checkBalance(t, h)
    await sleep(5)
  }
  const stats = h.stats()
  t.equal(stats.queued, 10, 'ten items of 1000 bytes fill 10 000 bytes')
  t.equal(stats.inFlight, 10, 'concurrency × maxBatchSize in flight')
  t.equal(stats.dropped.queueFull, 500 - 20)
  t.same(itemsOf(sink.requests[0]), [0, 1, 2, 3, 4], 'the oldest events are kept')
  t.match(logs.text(), /"maxQueueBytes":10000/)
  await h.engine.close(AbortSignal.timeout(100))
  checkBalance(t, h, true)
})

test('an item larger than maxQueueBytes is refused (queueFull) even by an empty queue', async (t) => {
  const { h } = await setup(t, { maxQueueBytes: 5000, itemBytes: (item: Item) => item === 1 ? 6000 : 100 })
  h.enqueue(0, 3)
  const stats = h.stats()
  t.equal(stats.dropped.queueFull, 1)
  await h.engine.close(AbortSignal.timeout(2000))
  t.equal(h.stats().delivered, 2)
  checkBalance(t, h, true)
})

test('maxBatchBytes caps a batch in bytes; a full batch in bytes goes at once; a larger item goes alone', async (t) => {
  const { sink, h } = await setup(t, {
    maxBatchSize: 100,
    maxBatchBytes: 3500,
    flushIntervalMs: 60_000,
    concurrency: 1,
    itemBytes: (item: Item) => item === 7 ? 9000 : 1000
  })
  const started = Date.now()
  h.enqueue(0, 10)
  await until(() => h.stats().delivered >= 8, 5000, 'the full batches')
  t.ok(Date.now() - started < 5000, 'batches full in bytes did not wait for the 60 s interval')
  t.equal(h.stats().queued, 2, 'the last 2000 bytes wait for the interval')
  await h.engine.close(AbortSignal.timeout(2000))
  t.same(sink.requests.map(itemsOf), [[0, 1, 2], [3, 4, 5], [6], [7], [8, 9]], 'batches of 3 × 1000 bytes; the 9000-byte item alone')
  checkBalance(t, h, true)
})

test('strings count their length by default; other items count 0 unless itemBytes says', async (t) => {
  t.equal(defaultItemBytes('héllo'), 5)
  t.equal(defaultItemBytes(new Uint8Array(7)), 7)
  t.equal(defaultItemBytes({ a: 'x'.repeat(100) }), 0)
  const adapter = batchAdapter()
  const engine = new DeliveryEngine<string>({
    name: 'rows',
    origin: 'http://127.0.0.1:9',
    adapter: adapter as never,
    defaults: { maxBatchSize: 10, flushIntervalMs: 60_000, concurrency: 1 },
    maxQueueBytes: 2500
  })
  for (let i = 0; i < 5; i++) engine.enqueue('r'.repeat(1000))
  t.match(engine.stats(), { queued: 2, dropped: { queueFull: 3 } }, 'two 1000-character rows fit in 2500 bytes')
  await engine.close(AbortSignal.timeout(10))
})

test('maxQueueBytes and maxBatchBytes: documented defaults, and values that cannot work are refused', async (t) => {
  const base = { name: 'x', origin: 'http://127.0.0.1:1', adapter: batchAdapter(), defaults: { maxBatchSize: 1, flushIntervalMs: 1, concurrency: 1 } }
  t.match(resolveSettings(base), { maxQueueBytes: DEFAULT_MAX_QUEUE_BYTES, maxBatchBytes: DEFAULT_MAX_BATCH_BYTES })
  t.ok(DEFAULT_MAX_BATCH_BYTES < 2 ** 29 - 24, 'a default batch of strings stays below V8\'s longest string')
  for (const bad of [0, -1, 1.5, 'big', 2 ** 31]) {
    t.throws(() => resolveSettings({ ...base, maxQueueBytes: bad as number }), { code: 'FST_ANALYTICS_INVALID_OPTION' }, `maxQueueBytes ${String(bad)}`)
    t.throws(() => resolveSettings({ ...base, maxBatchBytes: bad as number }), { code: 'FST_ANALYTICS_INVALID_OPTION' }, `maxBatchBytes ${String(bad)}`)
  }
  t.throws(() => resolveSettings({ ...base, itemBytes: 5 as never }), { code: 'FST_ANALYTICS_INVALID_OPTION' })
})
