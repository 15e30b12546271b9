import { test } from 'tap'
import { startSink } from '../helpers/sink.js'
import { checkBalance, Harness, itemsOf, never, perItemAdapter, setup, sleep, until } from '../helpers/engine-harness.js'

test('503 twice then 200: delivered once, the three attempts byte-identical, retries = 2', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 3, retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 5 } })
  sink.setPolicy((_request, index) => index < 2 ? { kind: 'respond', status: 503 } : { kind: 'respond', status: 200 })
  h.enqueue(0, 3)
  await h.engine.flush(never())
  t.equal(sink.requests.length, 3)
  const [first, ...rest] = sink.requests
  for (const again of rest) {
    t.ok(again.body.equals(first.body), 'same body bytes')
    t.same(again.rawHeaders, first.rawHeaders, 'same header lines, idempotency key included')
    t.equal(again.url, first.url)
  }
  t.match(first.headers, { 'idempotency-key': 'batch-1' })
  t.match(h.stats(), { delivered: 3, retries: 2, queued: 0, inFlight: 0 })
  checkBalance(t, h)
})

test('a retry re-sends only the failed request of a batch, never one already delivered', async (t) => {
  const { sink, h } = await setup(t, { adapter: perItemAdapter(), maxBatchSize: 3, concurrency: 3 })
  let failedOnce = false
  sink.setPolicy((request) => {
    if (itemsOf(request)[0] === 1 && !failedOnce) {
      failedOnce = true
      return { kind: 'respond', status: 500 }
    }
    return { kind: 'respond', status: 200 }
  })
  h.enqueue(0, 3)
  await h.engine.flush(never())
  const sent = sink.requests.map((r) => itemsOf(r)[0]).sort()
  t.same(sent, [0, 1, 1, 2], 'only item 1 was sent twice')
  t.match(h.stats(), { delivered: 3, retries: 1 })
  checkBalance(t, h)
})

test('Retry-After in seconds is honoured', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 1, retry: { baseDelayMs: 5, maxDelayMs: 5000, maxAttempts: 3 } })
  sink.setPolicy((_request, index) => index === 0
    ? { kind: 'respond', status: 429, headers: { 'retry-after': '1' } }
    : { kind: 'respond', status: 200 })
  h.enqueue(0)
  await h.engine.flush(never())
  const gap = sink.requests[1].receivedAt - sink.requests[0].receivedAt
  t.ok(gap >= 990, `second attempt ${gap} ms after the first (Retry-After: 1)`)
  t.ok(gap < 3000, 'and not much later')
  t.match(h.stats(), { delivered: 1, retries: 1 })
  checkBalance(t, h)
})

test('Retry-After as an HTTP date is honoured', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 1, retry: { baseDelayMs: 5, maxDelayMs: 5000, maxAttempts: 3 } })
  let notBefore = 0
  sink.setPolicy((_request, index) => {
    if (index > 0) return { kind: 'respond', status: 200 }
    // HTTP dates have whole seconds: the next whole second plus one is 1 to 2 s away.
    notBefore = (Math.floor(Date.now() / 1000) + 2) * 1000
    return { kind: 'respond', status: 503, headers: { 'retry-after': new Date(notBefore).toUTCString() } }
  })
  h.enqueue(0)
  await h.engine.flush(never())
  const early = notBefore - sink.requests[1].receivedAt
  t.ok(early <= 10, `second attempt at the date or later (${-early} ms after)`)
  t.ok(sink.requests[1].receivedAt - notBefore < 2000, 'and not much later')
  checkBalance(t, h)
})

test('Retry-After is capped at retry.maxDelayMs', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 1, retry: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 3 } })
  sink.setPolicy((_request, index) => index === 0
    ? { kind: 'respond', status: 503, headers: { 'retry-after': '3600' } }
    : { kind: 'respond', status: 200 })
  h.enqueue(0)
  await h.engine.flush(AbortSignal.timeout(2000))
  t.equal(h.stats().delivered, 1, 'retried after 50 ms, not an hour')
  checkBalance(t, h)
})

test('400 is not retried: the events are rejected', async (t) => {
  const { sink, h, logs } = await setup(t, { maxBatchSize: 4 })
  sink.setPolicy(() => ({ kind: 'respond', status: 400, body: '{"error":"bad field"}' }))
  h.enqueue(0, 4)
  await h.engine.flush(never())
  await sleep(50)
  t.equal(sink.requests.length, 1)
  t.match(h.stats(), { delivered: 0, retries: 0, dropped: { rejected: 4 } })
  t.match(logs.text(), /HTTP 400: \{\\"error\\":\\"bad field\\"\}/, 'the detail is logged')
  t.match(logs.text(), /"statusCode":400/)
  checkBalance(t, h)
})

test('connection refused: retried, then failed after maxAttempts', async (t) => {
  const dead = await startSink()
  const origin = dead.origin
  await dead.close()
  const h = new Harness({ origin, maxBatchSize: 2, retry: { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 } })
  t.teardown(() => h.engine.close(AbortSignal.timeout(200)))
  const { logCapture } = await import('../helpers/collectors.js')
  const logs = logCapture()
  h.engine.start(never(), logs.log)
  h.enqueue(0, 2)
  await h.engine.flush(AbortSignal.timeout(3000))
  t.match(h.stats(), { delivered: 0, retries: 2, dropped: { failed: 2 }, queued: 0, inFlight: 0 })
  t.match(logs.text(), /ECONNREFUSED/)
  t.match(logs.text(), /"attempt":3/)
  checkBalance(t, h)
})

test('timeout: a hanging destination is retried, then failed', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 1, timeoutMs: 200, retry: { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 2 } })
  sink.setPolicy(() => ({ kind: 'hang' }))
  const started = Date.now()
  h.enqueue(0)
  await h.engine.flush(AbortSignal.timeout(3000))
  const elapsed = Date.now() - started
  t.equal(sink.requests.length, 2)
  t.match(h.stats(), { delivered: 0, retries: 1, dropped: { failed: 1 } })
  t.ok(elapsed >= 390 && elapsed < 2000, `two attempts of 200 ms (${elapsed} ms)`)
  checkBalance(t, h)
})

test('a socket reset before the response is retried', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 1 })
  sink.setPolicy((_request, index) => index === 0 ? { kind: 'reset' } : { kind: 'respond', status: 200 })
  h.enqueue(0)
  await h.engine.flush(never())
  t.equal(sink.requests.length, 2)
  t.match(h.stats(), { delivered: 1, retries: 1 })
  checkBalance(t, h)
})

test('a socket reset in the middle of the response is retried', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 1 })
  sink.setPolicy((_request, index) => index === 0 ? { kind: 'resetMidResponse', status: 200 } : { kind: 'respond', status: 200 })
  h.enqueue(0)
  await h.engine.flush(never())
  t.equal(sink.requests.length, 2)
  t.match(h.stats(), { delivered: 1, retries: 1 })
  checkBalance(t, h)
})

test('head-of-line pause: while a request waits to retry, no new request starts', async (t) => {
  // Retry-After: 1 capped at maxDelayMs makes the wait exactly 300 ms, long enough to watch.
  const { sink, h, logs } = await setup(t, { maxBatchSize: 1, concurrency: 2, flushIntervalMs: 5, retry: { baseDelayMs: 5, maxDelayMs: 300, maxAttempts: 3 } })
  sink.setPolicy((_request, index) => index === 0
    ? { kind: 'respond', status: 503, headers: { 'retry-after': '1' } }
    : { kind: 'respond', status: 200 })
  h.enqueue(0)
  await until(() => logs.text().includes('will retry'), 3000, 'the 503 to be read')
  h.enqueue(1, 2)
  await sleep(150)
  t.equal(sink.requests.length, 1, 'nothing new was sent while the first request waits')
  t.match(h.stats(), { queued: 2, inFlight: 1 }, 'the queue absorbs')
  checkBalance(t, h)
  await h.engine.flush(never())
  const order = sink.requests.map((r) => itemsOf(r)[0])
  t.same(order.slice(0, 2), [0, 0], 'the retry went first')
  t.same(order.slice(2).sort(), [1, 2], 'then the rest, two at a time')
  t.match(h.stats(), { delivered: 3, retries: 1 })
  checkBalance(t, h)
})

test('after a request fails for good, sending resumes', async (t) => {
  const { sink, h } = await setup(t, { maxBatchSize: 1, concurrency: 1, retry: { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 2 } })
  sink.setPolicy((request) => itemsOf(request)[0] === 0 ? { kind: 'respond', status: 502 } : { kind: 'respond', status: 200 })
  h.enqueue(0, 3)
  await h.engine.flush(AbortSignal.timeout(3000))
  t.match(h.stats(), { delivered: 2, dropped: { failed: 1 }, retries: 1 })
  checkBalance(t, h)
})
