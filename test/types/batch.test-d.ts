import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import {
  DeliveryEngine, defaultInterpret, DEFAULT_MAX_QUEUE_BYTES, DEFAULT_MAX_BATCH_BYTES,
  type CollectorDefaults, type DeliveryEngineOptions, type HttpResponse, type OutgoingRequest, type Verdict
} from 'fastify-analytics/batch'

// The collector's defaults: every batching option that has no engine-wide default.
expectAssignable<CollectorDefaults>({ maxBatchSize: 100, flushIntervalMs: 1000, concurrency: 2 })
expectNotAssignable<CollectorDefaults>({ maxBatchSize: 100 })

const request: OutgoingRequest = { path: '/collect', headers: {}, body: '', events: 1 }
const response: HttpResponse = { statusCode: 202, headers: {}, body: '' }
expectType<Verdict>(defaultInterpret(response))

const options: DeliveryEngineOptions<string> = {
  name: 'ndjson',
  origin: 'https://collector.example',
  defaults: { maxBatchSize: 100, flushIntervalMs: 1000, concurrency: 1 },
  adapter: { prepare: (lines) => ({ requests: [{ ...request, events: lines.length }], invalid: 0 }), interpret: defaultInterpret }
}
const engine = new DeliveryEngine(options)
expectType<DeliveryEngine<string>>(engine)
expectError(engine.enqueue(1))
expectError(new DeliveryEngine<string>({ ...options, defaults: { maxBatchSize: 1 } }))

// Byte bounds: numbers; the item's size comes from the collector, typed by its items.
expectAssignable<DeliveryEngineOptions<string>>({ ...options, maxQueueBytes: 1 << 20, maxBatchBytes: 1 << 16 })
expectError(new DeliveryEngine<string>({ ...options, maxQueueBytes: '1MB' }))
expectAssignable<DeliveryEngineOptions<{ body: string }>>({
  ...options,
  adapter: { prepare: (items) => ({ requests: [{ ...request, events: items.length }], invalid: 0 }) },
  itemBytes: (item) => item.body.length
})
expectNotAssignable<DeliveryEngineOptions<string>>({ ...options, itemBytes: (item: number) => item })
expectType<number>(DEFAULT_MAX_QUEUE_BYTES)
expectType<number>(DEFAULT_MAX_BATCH_BYTES)
