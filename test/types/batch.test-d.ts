import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import {
  DeliveryEngine, defaultInterpret,
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
