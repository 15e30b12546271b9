import type { AnalyticsCollector, CollectorContext, DeliveryReport } from '../collector.js'
import { eventToJSON, type AnalyticsEvent } from '../event.js'
import { DeliveryEngine } from '../batch/engine.js'
import { RateLimitedLog, silentLogger } from '../log.js'
import { ENVELOPE_BYTES, WebhookAdapter } from './webhook/body.js'
import {
  DEFAULT_WEBHOOK_BATCH_SIZE, DEFAULT_WEBHOOK_CONCURRENCY, DEFAULT_WEBHOOK_FLUSH_INTERVAL_MS,
  normalizeWebhookOptions, type WebhookCollectorOptions
} from './webhook/options.js'

export type { WebhookCollectorOptions } from './webhook/options.js'
export type { WebhookBody } from './webhook/body.js'
export {
  DEFAULT_WEBHOOK_NAME, DEFAULT_WEBHOOK_BATCH_SIZE, DEFAULT_WEBHOOK_FLUSH_INTERVAL_MS, DEFAULT_WEBHOOK_CONCURRENCY,
  DEFAULT_WEBHOOK_TIMEOUT_MS, DEFAULT_WEBHOOK_MAX_BODY_BYTES
} from './webhook/options.js'

/** POSTs batches of events as JSON to a URL, signed per Standard Webhooks. Create it with `webhookCollector()`. */
export class WebhookCollector implements AnalyticsCollector {
  readonly name: string
  readonly #engine: DeliveryEngine<string>
  readonly #maxEventBytes: number
  readonly #log = new RateLimitedLog(silentLogger)

  constructor (options: WebhookCollectorOptions) {
    const normalized = normalizeWebhookOptions(options)
    this.name = normalized.name
    this.#maxEventBytes = normalized.maxBodyBytes - ENVELOPE_BYTES
    this.#engine = new DeliveryEngine<string>({
      ...normalized.batching,
      name: normalized.name,
      origin: normalized.origin,
      adapter: new WebhookAdapter(normalized.path, normalized.headers, normalized.key, normalized.maxBodyBytes),
      defaults: {
        maxBatchSize: DEFAULT_WEBHOOK_BATCH_SIZE,
        flushIntervalMs: DEFAULT_WEBHOOK_FLUSH_INTERVAL_MS,
        concurrency: DEFAULT_WEBHOOK_CONCURRENCY
      }
    })
  }

  start (signal: AbortSignal, context: CollectorContext): void {
    this.#log.log = context.log
    this.#engine.start(signal, context.log)
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    // Serialised once, here: the queue holds a string (a snapshot that owns nothing of the event)
    // and prepare only joins strings.
    const json = JSON.stringify(eventToJSON(event))
    // UTF-8 takes 1–3 bytes per UTF-16 unit: measure only when the length alone cannot decide.
    if (json.length * 3 > this.#maxEventBytes && (json.length > this.#maxEventBytes || Buffer.byteLength(json) > this.#maxEventBytes)) {
      this.#engine.drop('invalid')
      this.#log.warn('invalid', { bytes: Buffer.byteLength(json), maxBodyBytes: this.#maxEventBytes + ENVELOPE_BYTES }, 'analytics event too large for one webhook body: not sent')
      return
    }
    this.#engine.enqueue(json)
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
 * A collector that POSTs `{ id, schema: 1, sentAt, events }` batches to `url`.
 * Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function webhookCollector (options: WebhookCollectorOptions): WebhookCollector {
  return new WebhookCollector(options)
}
