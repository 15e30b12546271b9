import type { AnalyticsCollector, CollectorContext, DeliveryReport } from '../collector.js'
import type { AnalyticsEvent } from '../event.js'
import type { DeliveryEngine } from '../batch/engine.js'
import type { RateLimitedLog } from '../log.js'

/**
 * What every collector built on the delivery engine shares: the lifecycle members delegate to the
 * engine, `stats()` reports the engine's accounting, and refused events are counted and logged.
 * Subclasses write `collect` (the snapshot of an event) and nothing else.
 */
export abstract class EngineCollector<T> implements AnalyticsCollector {
  readonly name: string
  readonly #engine: DeliveryEngine<T>
  readonly #log: RateLimitedLog

  /** `log` is shared with the adapter, so lines it writes go to the app's logger once started. */
  constructor (name: string, engine: DeliveryEngine<T>, log: RateLimitedLog) {
    this.name = name
    this.#engine = engine
    this.#log = log
  }

  abstract collect (event: Readonly<AnalyticsEvent>): void

  start (signal: AbortSignal, context: CollectorContext): void {
    this.#log.log = context.log
    this.#engine.start(signal, context.log)
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

  protected get log (): RateLimitedLog {
    return this.#log
  }

  protected enqueue (item: T): void {
    this.#engine.enqueue(item)
  }

  /** Counts an event that cannot be sent as `invalid` and says why (rate-limited, by key). */
  protected refuse (key: string, fields: Record<string, unknown>, message: string): void {
    this.#engine.drop('invalid')
    this.#log.warn(key, fields, message)
  }
}
