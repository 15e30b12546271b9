import type { AnalyticsCollector, CollectorContext, DeliveryReport } from '../collector.js'
import type { AnalyticsEvent } from '../event.js'
import { DeliveryEngine } from '../batch/engine.js'
import type { BatchingOptions, CollectorDefaults, DeliveryAdapter, DeliveryTransport } from '../batch/types.js'
import { defaultItemBytes } from '../batch/settings.js'
import { RateLimitedLog, silentLogger } from '../log.js'

/** What every HTTP collector's normalised options hand to the delivery engine. */
export interface EngineWiring {
  name: string
  /** `scheme://host[:port]`. */
  origin: string
  /** Only the batching options (see `pickBatchingOptions`): the engine never holds a secret option. */
  batching: BatchingOptions
  /** The collector's defaults for what the user did not set. */
  defaults: CollectorDefaults
  /**
   * The `events` option, from `eventsFilter(options.events, <the collector's default>)`: required,
   * so that no collector built on this base forgets its default or ignores the option.
   */
  events: ((event: Readonly<AnalyticsEvent>) => boolean) | undefined
}

/**
 * What every collector built on the delivery engine shares: the engine is built here, the
 * lifecycle members delegate to it, `stats()` reports its accounting, and refused events are
 * counted and logged. Subclasses write `collect` (the snapshot of an event) and nothing else.
 */
export abstract class EngineCollector<T> implements AnalyticsCollector {
  readonly name: string
  /** Which events it takes (the `events` option); absent: every event. The fan-out asks before counting. */
  readonly wants?: (event: Readonly<AnalyticsEvent>) => boolean
  readonly #engine: DeliveryEngine<T>
  readonly #log = new RateLimitedLog(silentLogger)

  /**
   * `adapter` (and `transport`, for a destination that is not HTTP: a database client) get the
   * collector's log, so lines they write go to the app's logger once started.
   */
  constructor (wiring: EngineWiring, adapter: (log: RateLimitedLog) => DeliveryAdapter<T>, transport?: (log: RateLimitedLog) => DeliveryTransport) {
    this.name = wiring.name
    if (wiring.events !== undefined) this.wants = wiring.events
    this.#engine = new DeliveryEngine<T>({
      ...wiring.batching,
      name: wiring.name,
      origin: wiring.origin,
      adapter: adapter(this.#log),
      transport: transport?.(this.#log),
      defaults: wiring.defaults,
      itemBytes: (item) => this.itemBytes(item)
    })
  }

  /**
   * The size of a queued item for `maxQueueBytes`/`maxBatchBytes`: what it holds in memory, roughly,
   * computed cheaply (it runs in `collect`). Default: a string's length (the warehouse rows, the
   * webhook's event JSON). A collector that queues objects overrides it.
   */
  protected itemBytes (item: T): number {
    return defaultItemBytes(item)
  }

  abstract collect (event: Readonly<AnalyticsEvent>): void

  start (signal: AbortSignal, context: CollectorContext): void {
    this.#log.log = context.log
    this.#engine.start(signal, context.log, context.onStatsChange)
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

  /** The resolved concurrency and per-attempt timeout, for a transport that sizes its own pool. */
  protected get limits (): { concurrency: number, timeoutMs: number } {
    return this.#engine.limits
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

  /**
   * Counts an event the destination's published rules refuse (a message over its size limit) as
   * `rejected`, without sending it: sent, it would only come back refused, with its batch.
   */
  protected reject (key: string, fields: Record<string, unknown>, message: string): void {
    this.#engine.drop('rejected')
    this.#log.warn(key, fields, message)
  }
}
