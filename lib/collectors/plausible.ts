import type { AnalyticsCollector, CollectorContext, DeliveryReport } from '../collector.js'
import type { AnalyticsEvent } from '../event.js'
import type { DeliveryAdapter, HttpResponse, OutgoingRequest, PreparedBatch, Verdict } from '../batch/types.js'
import { DeliveryEngine } from '../batch/engine.js'
import { defaultInterpret } from '../http/index.js'
import { RateLimitedLog, silentLogger } from '../log.js'
import {
  DEFAULT_PLAUSIBLE_BATCH_SIZE, DEFAULT_PLAUSIBLE_CONCURRENCY, DEFAULT_PLAUSIBLE_FLUSH_INTERVAL_MS,
  normalizePlausibleOptions, type PlausibleCollectorOptions
} from './plausible/options.js'
import { plausibleRequest } from './plausible/payload.js'
import { interpretPlausibleResponse } from './plausible/response.js'

export type { PlausibleCollectorOptions } from './plausible/options.js'
export {
  DEFAULT_PLAUSIBLE_BASE_URL, DEFAULT_PLAUSIBLE_NAME, DEFAULT_PLAUSIBLE_BATCH_SIZE,
  DEFAULT_PLAUSIBLE_FLUSH_INTERVAL_MS, DEFAULT_PLAUSIBLE_CONCURRENCY
} from './plausible/options.js'

class PlausibleAdapter implements DeliveryAdapter<OutgoingRequest> {
  // Requests are built at collect (the event is only ours during that call): nothing left to do.
  prepare (items: OutgoingRequest[]): PreparedBatch {
    return { requests: items, invalid: 0 }
  }

  interpret (response: HttpResponse, request: OutgoingRequest): Verdict {
    return interpretPlausibleResponse(response, request, defaultInterpret)
  }
}

/** Sends events to Plausible's Events API. Create it with `plausibleCollector()`. */
export class PlausibleCollector implements AnalyticsCollector {
  readonly name: string
  readonly #engine: DeliveryEngine<OutgoingRequest>
  readonly #domain: string
  readonly #fallbackHost: string
  readonly #path: string
  readonly #log = new RateLimitedLog(silentLogger)

  constructor (options: PlausibleCollectorOptions) {
    const normalized = normalizePlausibleOptions(options)
    this.name = normalized.name
    this.#domain = normalized.domain
    this.#fallbackHost = normalized.fallbackHost
    this.#path = normalized.path
    this.#engine = new DeliveryEngine<OutgoingRequest>({
      ...normalized.batching,
      name: normalized.name,
      origin: normalized.origin,
      adapter: new PlausibleAdapter(),
      defaults: {
        maxBatchSize: DEFAULT_PLAUSIBLE_BATCH_SIZE,
        flushIntervalMs: DEFAULT_PLAUSIBLE_FLUSH_INTERVAL_MS,
        concurrency: DEFAULT_PLAUSIBLE_CONCURRENCY
      }
    })
  }

  start (signal: AbortSignal, context: CollectorContext): void {
    this.#log.log = context.log
    this.#engine.start(signal, context.log)
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    const request = plausibleRequest(event, this.#path, this.#domain, this.#fallbackHost)
    if (typeof request === 'string') {
      this.#engine.drop('invalid')
      this.#log.warn('invalid', { reason: request }, 'analytics event not sent to Plausible')
      return
    }
    this.#engine.enqueue(request)
  }

  flush (signal: AbortSignal): Promise<void> {
    return this.#engine.flush(signal)
  }

  close (signal: AbortSignal): Promise<void> {
    return this.#engine.close(signal)
  }

  stats (): DeliveryReport {
    return this.#engine.stats()
  }
}

/**
 * A collector for Plausible's Events API (`POST {baseUrl}/api/event`), one request per event.
 * Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function plausibleCollector (options: PlausibleCollectorOptions): PlausibleCollector {
  return new PlausibleCollector(options)
}
