import { test } from 'tap'
import { DeliveryEngine } from '../../lib/batch/engine.js'
import type { DeliveryEngineOptions } from '../../lib/batch/settings.js'
import * as batch from '../../lib/batch/index.js'
import * as http from '../../lib/http/index.js'
import { batchAdapter, checkBalance, Harness, never, sleep, type Item } from '../helpers/engine-harness.js'
import { startSink } from '../helpers/sink.js'

const valid = (): DeliveryEngineOptions<Item> => ({
  name: 'test',
  origin: 'https://collector.example',
  adapter: batchAdapter(),
  defaults: { maxBatchSize: 10, flushIntervalMs: 1000, concurrency: 2 }
})

test('valid options construct an engine; origin may be http, https, with port or trailing slash', async (t) => {
  for (const origin of ['https://collector.example', 'http://127.0.0.1:8080', 'https://collector.example/']) {
    t.doesNotThrow(() => new DeliveryEngine({ ...valid(), origin }), origin)
  }
  t.doesNotThrow(() => new DeliveryEngine({ ...valid(), retry: { baseDelayMs: 0 }, maxQueueSize: 1 }))
  t.equal(new DeliveryEngine(valid()).name, 'test')
})

test('every invalid option throws FST_ANALYTICS_INVALID_OPTION naming the option', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['maxQueueSize 0', { maxQueueSize: 0 }, /maxQueueSize/],
    ['maxQueueSize -1', { maxQueueSize: -1 }, /maxQueueSize/],
    ['maxQueueSize 1.5', { maxQueueSize: 1.5 }, /maxQueueSize/],
    ['maxQueueSize string', { maxQueueSize: '10' }, /maxQueueSize.*string/],
    ['maxQueueSize NaN', { maxQueueSize: Number.NaN }, /maxQueueSize/],
    ['maxBatchSize 0', { maxBatchSize: 0 }, /maxBatchSize/],
    ['flushIntervalMs 0', { flushIntervalMs: 0 }, /flushIntervalMs/],
    ['flushIntervalMs Infinity', { flushIntervalMs: Infinity }, /flushIntervalMs/],
    ['flushIntervalMs beyond setTimeout', { flushIntervalMs: 2 ** 31 }, /flushIntervalMs/],
    ['concurrency 0', { concurrency: 0 }, /concurrency/],
    ['timeoutMs -5', { timeoutMs: -5 }, /timeoutMs/],
    ['retry null', { retry: null }, /retry must be an object/],
    ['retry.baseDelayMs -1', { retry: { baseDelayMs: -1 } }, /retry\.baseDelayMs/],
    ['retry.maxDelayMs 1.2', { retry: { maxDelayMs: 1.2 } }, /retry\.maxDelayMs/],
    ['retry.maxAttempts 0', { retry: { maxAttempts: 0 } }, /retry\.maxAttempts/],
    ['name empty', { name: '' }, /name/],
    ['name number', { name: 5 }, /name/],
    ['origin not a string', { origin: 42 }, /origin/],
    ['origin not a URL', { origin: 'collector.example' }, /origin/],
    ['origin ftp', { origin: 'ftp://collector.example' }, /origin must use http or https/],
    ['origin with a path', { origin: 'https://collector.example/mp/collect' }, /origin must be scheme:\/\/host\[:port\]/],
    ['origin with a query', { origin: 'https://collector.example?x=1' }, /origin/],
    ['origin with a fragment', { origin: 'https://collector.example#x' }, /origin/],
    ['origin with credentials', { origin: 'https://u:p@collector.example' }, /origin must not contain credentials/],
    ['adapter missing', { adapter: undefined }, /adapter/],
    ['adapter without prepare', { adapter: {} }, /adapter/],
    ['interpret not a function', { adapter: { prepare: () => ({ requests: [], invalid: 0 }), interpret: 'x' } }, /adapter\.interpret/],
    ['defaults missing', { defaults: undefined }, /defaults must be an object/],
    ['defaults.maxBatchSize missing', { defaults: { flushIntervalMs: 1, concurrency: 1 } }, /defaults\.maxBatchSize is required/],
    ['defaults.concurrency 0', { defaults: { maxBatchSize: 1, flushIntervalMs: 1, concurrency: 0 } }, /defaults\.concurrency/],
    ['dispatcher not a dispatcher', { dispatcher: {} }, /dispatcher/]
  ]
  for (const [label, patch, message] of cases) {
    t.throws(() => new DeliveryEngine({ ...valid(), ...patch } as unknown as DeliveryEngineOptions<Item>), {
      code: 'FST_ANALYTICS_INVALID_OPTION',
      message
    }, label)
  }
  t.throws(() => new DeliveryEngine(null as unknown as DeliveryEngineOptions<Item>), { code: 'FST_ANALYTICS_INVALID_OPTION' })
})

test('the collector\'s defaults apply where the user set nothing; user options win', async (t) => {
  const sink = await startSink()
  t.teardown(() => sink.close())
  const h = new Harness({ origin: sink.origin, maxBatchSize: undefined, defaults: { maxBatchSize: 3, flushIntervalMs: 60_000, concurrency: 1 } })
  t.teardown(() => h.engine.close(AbortSignal.timeout(200)))
  h.engine.start(never(), (await import('../../lib/log.js')).silentLogger)
  h.enqueue(0, 3)
  await sink.waitForRequests(1)
  t.equal(sink.requests[0].body.toString(), '{"items":[0,1,2]}', 'the default batch size of 3 was used')
  checkBalance(t, h)
})

test('construction creates no socket and no timer; enqueue before start does no I/O', async (t) => {
  const sink = await startSink()
  t.teardown(() => sink.close())
  const engine = new DeliveryEngine<Item>({ ...valid(), origin: sink.origin, maxBatchSize: 1 })
  for (let i = 0; i < 5; i++) engine.enqueue(i)
  await sleep(50)
  t.equal(sink.connections, 0)
  t.match(engine.stats(), { queued: 5 })
  await engine.close(AbortSignal.abort())
})

test('the barrels export the API', async (t) => {
  t.equal(batch.DeliveryEngine, DeliveryEngine)
  t.equal(batch.DEFAULT_MAX_QUEUE_SIZE, 10_000)
  t.equal(batch.DEFAULT_TIMEOUT_MS, 10_000)
  t.same([batch.DEFAULT_RETRY_BASE_DELAY_MS, batch.DEFAULT_RETRY_MAX_DELAY_MS, batch.DEFAULT_RETRY_MAX_ATTEMPTS], [500, 30_000, 5])
  for (const name of ['defaultInterpret', 'parseRetryAfter', 'redactPath']) t.type((batch as Record<string, unknown>)[name], 'function', name)
  t.equal((http as Record<string, unknown>).defaultInterpret, undefined, 'the verdict logic lives in lib/batch, not lib/http')
  for (const name of ['Transport', 'TransportError', 'classifyError', 'parseRetryAfter', 'redactPath', 'redactText', 'secretValues', 'isSecretName', 'parseHttpUrl']) {
    t.type((http as Record<string, unknown>)[name], 'function', name)
  }
})
