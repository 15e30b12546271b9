import { test } from 'tap'
import { DeliveryEngine } from '../../lib/batch/engine.js'
import type { DeliveryEngineOptions } from '../../lib/batch/settings.js'
import type { OutgoingRequest } from '../../lib/batch/types.js'
import { redactPath } from '../../lib/http/redact.js'
import { startSink } from '../helpers/sink.js'
import { checkBalance, Harness, never, type Item } from '../helpers/engine-harness.js'
import { logCapture } from '../helpers/collectors.js'

const SECRET = 'S3CRET'

/** Requests as GA4 builds them: the API secret in the query string, and a signed header too. */
const secretAdapter = {
  prepare (items: Item[]) {
    const request: OutgoingRequest = {
      path: `/x?measurement_id=G-1&api_secret=${SECRET}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}-token` },
      body: JSON.stringify({ items }),
      events: items.length
    }
    return { requests: [request], invalid: 0 }
  }
}

test('no secret reaches a log line, an error or stats() while the destination fails in every way', async (t) => {
  const sink = await startSink()
  t.teardown(() => sink.close())
  const behaviours = [
    { kind: 'respond', status: 500, body: `upstream said: /x?api_secret=${SECRET}` },
    { kind: 'reset' },
    { kind: 'respond', status: 400, body: `{"error":"bad request","echo":{"api_secret":"${SECRET}","path":"/x?measurement_id=G-1&api_secret=${SECRET}"}}` },
    { kind: 'resetMidResponse', status: 200 },
    { kind: 'respond', status: 401, body: `invalid token Bearer ${SECRET}-token` },
    { kind: 'hang' }
  ] as const
  sink.setPolicy((_request, index) => behaviours[index % behaviours.length])
  const logs = logCapture()
  const h = new Harness({
    origin: sink.origin,
    adapter: secretAdapter,
    maxBatchSize: 1,
    concurrency: 1,
    timeoutMs: 150,
    retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 2 }
  })
  t.teardown(() => h.engine.close(AbortSignal.timeout(200)))
  h.engine.start(never(), logs.log)
  h.enqueue(0, 6)
  await h.engine.flush(AbortSignal.timeout(5000))
  h.enqueue(6, 2)
  sink.setPolicy(() => ({ kind: 'hang' }))
  await h.engine.close(AbortSignal.timeout(100))

  const text = logs.text()
  t.ok(logs.lines.length >= 4, `${logs.lines.length} log lines written`)
  t.match(text, /api_secret=\[REDACTED\]/, 'the path is logged, redacted')
  t.match(text, /"statusCode":(500|400|401)/)
  t.match(text, /"attempt":\d/)
  t.notMatch(text, new RegExp(SECRET), 'no secret in any log line')
  t.notMatch(JSON.stringify(h.stats()), new RegExp(SECRET))
  checkBalance(t, h, true)
})

test('a refused connection and a failing adapter log no secret either', async (t) => {
  const dead = await startSink()
  const origin = dead.origin
  await dead.close()
  const logs = logCapture()
  const engine = new DeliveryEngine<Item>({
    name: 'ga4',
    origin,
    adapter: {
      prepare: (items) => secretAdapter.prepare(items),
      interpret: () => { throw new Error(`cannot parse /x?api_secret=${SECRET}`) }
    },
    defaults: { maxBatchSize: 1, flushIntervalMs: 10, concurrency: 1 },
    retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 }
  })
  engine.start(never(), logs.log)
  engine.enqueue(1)
  await engine.flush(AbortSignal.timeout(3000))
  await engine.close(AbortSignal.timeout(500))
  t.match(logs.text(), /ECONNREFUSED/)
  t.notMatch(logs.text(), new RegExp(SECRET))
})

test('thrown option errors never echo a secret', async (t) => {
  const base: DeliveryEngineOptions<Item> = {
    name: 'ga4',
    origin: 'https://x.example',
    adapter: secretAdapter,
    defaults: { maxBatchSize: 1, flushIntervalMs: 10, concurrency: 1 }
  }
  for (const origin of [`https://user:${SECRET}@x.example`, `https://x.example/mp?api_secret=${SECRET}`, `x.example?api_secret=${SECRET}`, `ftp://u:${SECRET}@x.example`]) {
    try {
      new DeliveryEngine({ ...base, origin }) // eslint-disable-line no-new
      t.fail('should throw')
    } catch (error) {
      t.equal((error as { code?: string }).code, 'FST_ANALYTICS_INVALID_OPTION')
      t.notMatch(String((error as Error).message) + String((error as Error).stack), new RegExp(SECRET), origin.replace(SECRET, '***'))
    }
  }
  t.equal(redactPath(`/x?api_secret=${SECRET}`), '/x?api_secret=[REDACTED]')
})
