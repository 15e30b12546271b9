import { test } from 'tap'
import type { DeliveryAdapter, OutgoingRequest, Verdict } from '../../lib/batch/types.js'
import { batchAdapter, checkBalance, never, setup, type Item } from '../helpers/engine-harness.js'

function adapterWith (interpret: (statusCode: number) => Verdict, prepare?: DeliveryAdapter<Item>['prepare']): DeliveryAdapter<Item> {
  const base = batchAdapter()
  return {
    prepare: prepare ?? ((items) => base.prepare(items)),
    interpret: (response) => interpret(response.statusCode)
  }
}

test('a delivered verdict with destinationDropped and rejected counts those apart', async (t) => {
  const { h } = await setup(t, {
    maxBatchSize: 5,
    adapter: adapterWith(() => ({ outcome: 'delivered', destinationDropped: 1, rejected: 2, detail: 'dropped one' }))
  })
  h.enqueue(0, 5)
  await h.engine.flush(never())
  t.match(h.stats(), { delivered: 2, dropped: { destination: 1, rejected: 2 } })
  checkBalance(t, h)
})

test('verdict counts larger than the request are clamped to its events', async (t) => {
  const { h, logs } = await setup(t, {
    maxBatchSize: 3,
    adapter: adapterWith(() => ({ outcome: 'delivered', destinationDropped: 2, rejected: 99 }))
  })
  h.enqueue(0, 3)
  await h.engine.flush(never())
  t.match(h.stats(), { delivered: 0, dropped: { destination: 2, rejected: 1 } })
  t.match(logs.text(), /discarded or refused/)
  checkBalance(t, h)
})

test('an adapter may ask for a retry on a 2xx, and reject on one', async (t) => {
  let calls = 0
  const { sink, h } = await setup(t, {
    maxBatchSize: 2,
    adapter: adapterWith(() => ++calls === 1 ? { outcome: 'retry', detail: 'try again' } : { outcome: 'rejected', detail: 'no' })
  })
  h.enqueue(0, 2)
  await h.engine.flush(never())
  t.equal(sink.requests.length, 2)
  t.match(h.stats(), { retries: 1, dropped: { rejected: 2 } })
  checkBalance(t, h)
})

test('invalid items from prepare are counted invalid; the rest are sent', async (t) => {
  const { sink, h } = await setup(t, {
    maxBatchSize: 4,
    adapter: {
      prepare: (items) => {
        const valid = items.filter((item) => item % 2 === 0)
        return {
          requests: [{ path: '/c', headers: {}, body: JSON.stringify({ items: valid }), events: valid.length }],
          invalid: items.length - valid.length
        }
      }
    }
  })
  h.enqueue(0, 4)
  await h.engine.flush(never())
  t.equal(sink.requests.length, 1)
  t.match(h.stats(), { delivered: 2, dropped: { invalid: 2 } })
  checkBalance(t, h)
})

test('a batch with no requests at all (everything invalid) settles at once', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 3, adapter: { prepare: (items) => ({ requests: [], invalid: items.length }) } })
  h.enqueue(0, 3)
  await h.engine.flush(never())
  t.equal(sink.requests.length, 0)
  t.match(h.stats(), { dropped: { invalid: 3 } })
  checkBalance(t, h)
})

test('an adapter bug never breaks the accounting', async (t) => {
  t.test('prepare throws: the batch is failed', async (t) => {
    const { h, logs } = await setup(t, { maxBatchSize: 2, adapter: { prepare: () => { throw new Error('encoder bug') } } })
    h.enqueue(0, 2)
    await h.engine.flush(never())
    t.match(h.stats(), { dropped: { failed: 2 } })
    t.match(logs.text(), /encoder bug/)
    checkBalance(t, h)
  })
  t.test('requests account for fewer events than given: the rest are failed', async (t) => {
    const { h } = await setup(t, {
      maxBatchSize: 3,
      adapter: { prepare: () => ({ requests: [{ path: '/c', headers: {}, body: '{}', events: 1 }, null as unknown as OutgoingRequest], invalid: 0 }) }
    })
    h.enqueue(0, 3)
    await h.engine.flush(never())
    t.match(h.stats(), { delivered: 1, dropped: { failed: 2 } })
    checkBalance(t, h)
  })
  t.test('requests claim more events than given: clamped', async (t) => {
    const { h } = await setup(t, {
      maxBatchSize: 2,
      adapter: { prepare: () => ({ requests: [{ path: '/c', headers: {}, body: '{}', events: 5 }, { path: '/d', headers: {}, body: '{}', events: 5 }], invalid: -1 }) }
    })
    h.enqueue(0, 2)
    await h.engine.flush(never())
    t.match(h.stats(), { delivered: 2 })
    checkBalance(t, h)
  })
  t.test('interpret throws: failed, not retried', async (t) => {
    const { sink, h } = await setup(t, { maxBatchSize: 2, adapter: adapterWith(() => { throw new Error('reader bug') }) })
    h.enqueue(0, 2)
    await h.engine.flush(never())
    t.equal(sink.requests.length, 1)
    t.match(h.stats(), { dropped: { failed: 2 }, retries: 0 })
    checkBalance(t, h)
  })
  t.test('interpret returns nonsense: failed', async (t) => {
    const { h } = await setup(t, { maxBatchSize: 1, adapter: adapterWith(() => ({ outcome: 'maybe' }) as unknown as Verdict) })
    h.enqueue(0)
    await h.engine.flush(never())
    t.match(h.stats(), { dropped: { failed: 1 } })
    checkBalance(t, h)
  })
  t.test('a request undici refuses (bad header) is failed without retry', async (t) => {
    const { sink, h } = await setup(t, {
      maxBatchSize: 1,
      adapter: { prepare: () => ({ requests: [{ path: '/c', headers: { 'bad header': 'x' }, body: '{}', events: 1 }], invalid: 0 }) }
    })
    h.enqueue(0)
    await h.engine.flush(never())
    t.equal(sink.requests.length, 0)
    t.match(h.stats(), { dropped: { failed: 1 }, retries: 0 })
    checkBalance(t, h)
  })
})

test('drop counts refused items as received and dropped', async (t) => {
  const { h } = await setup(t)
  h.drop('invalid')
  h.drop('invalid', 3)
  h.drop('queueFull', 2)
  t.match(h.stats(), { dropped: { invalid: 4, queueFull: 2 } })
  checkBalance(t, h)
  h.engine.drop('invalid', 0)
  h.engine.drop('invalid', -2)
  h.engine.drop('invalid', 1.5)
  h.engine.drop('nonsense' as 'invalid', 1)
  h.received += 1
  t.match(h.stats(), { dropped: { invalid: 5 } }, 'bad counts ignored, an unknown reason counted invalid')
  checkBalance(t, h)
})

test('stats() is a snapshot with every drop reason', async (t) => {
  const { h } = await setup(t)
  const stats = h.stats()
  t.same(stats, {
    delivered: 0,
    dropped: { queueFull: 0, invalid: 0, rejected: 0, destination: 0, failed: 0, shutdown: 0, closed: 0 },
    retries: 0,
    queued: 0,
    inFlight: 0
  })
  stats.dropped.failed = 99
  t.equal(h.stats().dropped.failed, 0)
})
