import { redactText } from '../http/index.js'
import { errorText } from '../util.js'
import type { Attempts, EngineParts } from './attempts.js'
import { clampCount, Delivery, isOutgoingRequest, isPromiseLike, type Batch } from './delivery.js'
import type { DeliveryAdapter, PreparedBatch } from './types.js'

export interface BatchesOptions<T> extends EngineParts {
  adapter: DeliveryAdapter<T>
  attempts: Attempts
  /** A batch ended (all its events settled): flushes may be satisfied. */
  ended: () => void
}

/**
 * Batches taken from the queue until every event of theirs is settled: each is encoded by the
 * adapter (at once, or through a promise: GA4 with a shared session store), its requests handed to
 * the attempts, and what the adapter could not turn into requests counted. Kept in creation order,
 * so the oldest open batch says how far a flush has come.
 */
export class Batches<T> {
  readonly #o: BatchesOptions<T>
  readonly #open = new Set<Batch>()

  constructor (options: BatchesOptions<T>) {
    this.#o = options
  }

  /** Batches with unsettled requests, or being prepared. */
  get size (): number {
    return this.#open.size
  }

  /** Encodes `items` (the first numbered `firstSeq`; already counted in flight) and queues its requests. */
  send (items: T[], firstSeq: number): void {
    const size = items.length
    const batch: Batch = { firstSeq, open: 0, abandoned: false }
    let prepared: PreparedBatch | Promise<PreparedBatch>
    try {
      prepared = this.#o.adapter.prepare(items)
    } catch (error) {
      this.#encodingFailed(size, error)
      return
    }
    if (!isPromiseLike(prepared)) {
      this.#dispatch(batch, size, prepared)
      return
    }
    // The batch holds its concurrency slot and keeps flush()/close() waiting while it is prepared;
    // the close deadline abandons it.
    batch.open = 1
    this.#open.add(batch)
    void prepared.then((result) => this.#prepared(batch, size, result, undefined),
      (error: unknown) => this.#prepared(batch, size, undefined, error ?? new Error('prepare rejected')))
  }

  /** The last request of `batch` settled. */
  done (batch: Batch): void {
    this.#open.delete(batch)
    this.#o.ended()
  }

  /** Whether every item numbered below `target` is settled, given that items below `taken` left the queue. */
  flushed (target: number, taken: number): boolean {
    if (taken < target) return false
    const first = this.#open.values().next()
    return first.done === true || first.value.firstSeq >= target
  }

  /** At the shutdown deadline (the ledger counts their events): a prepare still running is ignored when it ends. */
  abandon (): void {
    for (const batch of this.#open) batch.abandoned = true
    this.#open.clear()
  }

  #prepared (batch: Batch, size: number, result: PreparedBatch | undefined, error: unknown): void {
    // Counted `shutdown` by abandon already: nothing of it may be counted twice.
    if (batch.abandoned) return
    // The batch stays in the set (in creation order, which flushed() relies on) until dispatched.
    batch.open = 0
    if (result === undefined) {
      this.#open.delete(batch)
      this.#encodingFailed(size, error)
    } else {
      this.#dispatch(batch, size, result)
    }
    this.#o.pump()
  }

  #encodingFailed (size: number, error: unknown): void {
    this.#o.ledger.settle(0, 'failed', size)
    this.#o.log.error('adapter', { events: size, error: redactText(errorText(error)) }, `${this.#o.name}: encoding a batch failed, events dropped`)
    this.#o.ended()
  }

  #dispatch (batch: Batch, size: number, prepared: PreparedBatch): void {
    const { ledger, log, name } = this.#o
    const requests: unknown = prepared?.requests
    const invalid = clampCount(prepared?.invalid, size)
    let remaining = size - invalid
    const deliveries: Delivery[] = []
    if (Array.isArray(requests)) {
      for (const request of requests) {
        if (!isOutgoingRequest(request)) continue
        const events = clampCount(request.events, remaining)
        remaining -= events
        deliveries.push(new Delivery(request, events, batch))
      }
    }
    if (invalid > 0) {
      ledger.settle(0, 'invalid', invalid)
      log.warn('invalid', { events: invalid }, `${name}: events cannot be sent, dropped`)
    }
    if (remaining > 0) {
      // The adapter accounted for fewer events than it was given: count them rather than lose them.
      ledger.settle(0, 'failed', remaining)
      log.error('adapter', { events: remaining }, `${name}: the encoder accounted for fewer events than it was given`)
    }
    if (deliveries.length === 0) {
      this.#open.delete(batch)
      this.#o.ended()
      return
    }
    batch.open = deliveries.length
    this.#open.add(batch)
    for (const delivery of deliveries) this.#o.attempts.add(delivery)
  }
}
