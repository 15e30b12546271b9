import { setMaxListeners } from 'node:events'
import type { DeliveryReport, DropReason } from '../collector.js'
import { classifyError, redactPath, redactText, Transport, TransportError, type HttpResponse, type OutgoingRequest } from '../http/index.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { errorText } from '../util.js'
import { Ledger } from './ledger.js'
import { Queue } from './queue.js'
import { defaultItemBytes, resolveSettings, type BatchingOptions, type DeliveryEngineOptions, type Settings } from './settings.js'
import type { DeliveryAdapter, DeliveryTransport, PreparedBatch, Verdict } from './types.js'
import { defaultInterpret } from './verdict.js'
import { backoffDelay, clampCount, Delivery, deliverySecrets, isOutgoingRequest, isPromiseLike, logFields, onAbort, type Batch } from './delivery.js'

interface FlushWaiter {
  /** Resolved once every item numbered below this has been delivered or dropped. */
  target: number
  done: () => void
}

/**
 * The delivery half every HTTP collector shares: a bounded FIFO queue, batching by size and by
 * interval, at most `concurrency` requests in flight, retries with backoff, and the accounting
 * behind `stats()`. At every moment: received (enqueue + drop) = delivered + Σ dropped + queued +
 * inFlight (the Ledger keeps the figures; close() checks the balance); once `close()` has
 * resolved, queued = inFlight = 0.
 *
 * The retry loop is written here rather than delegated to undici's RetryAgent / retry interceptor:
 * those retry inside one dispatch, invisibly, so the engine could neither pause new requests while
 * one waits to retry (head-of-line pause), nor count retries, nor cancel a wait at the shutdown
 * deadline and count its events as `shutdown`; and they skip POST unless told otherwise.
 */
export class DeliveryEngine<T> {
  readonly name: string
  readonly #settings: Settings
  readonly #adapter: DeliveryAdapter<T>
  readonly #interpret: (response: HttpResponse, request: OutgoingRequest) => Verdict
  readonly #dispatcher: BatchingOptions['dispatcher']
  readonly #ownTransport: DeliveryTransport | undefined
  readonly #itemBytes: (item: T) => number

  readonly #queue = new Queue<T>()
  /** Items at the head of the queue whose flush interval has passed. */
  #due = 0
  /** Items ever put in the queue, and items ever taken out of it (sent or dropped at shutdown). */
  #seq = 0
  #taken = 0
  /** Partial batches are sent at once until `#taken` reaches this (a flush is waiting). */
  #forceUntil = 0

  readonly #ledger = new Ledger()
  #queueFullUnlogged = 0

  /** Prepared requests not started yet, requests not settled, and batches with unsettled requests. */
  readonly #pending: Delivery[] = []
  readonly #live = new Set<Delivery>()
  readonly #batches = new Set<Batch>()
  /** Attempts in progress. */
  #active = 0
  /** Requests that failed an attempt and are not settled: while any, nothing new is sent. */
  #troubled = 0

  #started = false
  #closed = false
  #ended = false
  #pumping = false
  #transport: DeliveryTransport | undefined = undefined
  #timer: NodeJS.Timeout | undefined = undefined
  #immediate: NodeJS.Immediate | undefined = undefined
  readonly #lifetime = new AbortController()
  readonly #log = new RateLimitedLog(silentLogger)
  readonly #waiters: FlushWaiter[] = []
  #idle: (() => void) | undefined = undefined
  #closing: Promise<void> | undefined = undefined
  /** A flush or close is waiting: timers keep the process alive meanwhile (see #hold). */
  #holding = false

  constructor (options: DeliveryEngineOptions<T>) {
    this.#settings = resolveSettings(options)
    this.name = this.#settings.name
    this.#adapter = options.adapter
    const interpret = options.adapter.interpret
    this.#interpret = typeof interpret === 'function' ? interpret.bind(options.adapter) : defaultInterpret
    this.#dispatcher = options.dispatcher
    this.#ownTransport = options.transport
    this.#itemBytes = options.itemBytes ?? defaultItemBytes
    // Every attempt in progress listens on this signal; past 10, Node would warn of a leak.
    setMaxListeners(this.#settings.concurrency + 10, this.#lifetime.signal)
  }

  /** The resolved concurrency and per-attempt timeout, for a `transport` that sizes its own pool. */
  get limits (): { concurrency: number, timeoutMs: number } {
    return { concurrency: this.#settings.concurrency, timeoutMs: this.#settings.timeoutMs }
  }

  /** Queues one item. Synchronous, O(1), no I/O, never throws: a refused item is counted. */
  enqueue (item: T): void {
    if (this.#closed) {
      this.#ledger.refuse('closed')
      return
    }
    const queue = this.#queue
    const bytes = this.#sizeOf(item)
    // A burst that arrives within one turn (a worker's hand-over of many requests' events, a job's
    // loop of track() calls) would find the queue full while a sending slot is still free, because
    // the pump only runs on the next turn: take the batch the pump would take now, so the bound is
    // maxQueueSize + concurrency × maxBatchSize (in bytes: maxQueueBytes + concurrency × maxBatchBytes)
    // however the events arrive. No I/O: the request is made by the pump, as always.
    if (this.#full(bytes) && queue.length > 0 && this.#canPump() && this.#slotForBatch()) this.#formBatch()
    if (this.#full(bytes)) {
      this.#ledger.refuse('queueFull')
      this.#queueFullUnlogged++
      this.#schedule()
      return
    }
    this.#ledger.receive()
    queue.push(item, bytes)
    this.#seq++
    // The first item not yet due starts the interval: it is the oldest of those waiting for it.
    if (queue.length - this.#due === 1) this.#armInterval()
    if (queue.length >= this.#settings.maxBatchSize || queue.bytes >= this.#settings.maxBatchBytes) this.#schedule()
  }

  /** Whether an item of `bytes` would take the queue past either bound. */
  #full (bytes: number): boolean {
    const s = this.#settings
    return this.#queue.length >= s.maxQueueSize || this.#queue.bytes + bytes > s.maxQueueBytes
  }

  /** The item's size from the collector's estimate, made safe: a finite non-negative number. */
  #sizeOf (item: T): number {
    let bytes: number
    try {
      bytes = this.#itemBytes(item)
    } catch {
      return 0
    }
    return typeof bytes === 'number' && bytes > 0 && Number.isFinite(bytes) ? bytes : 0
  }

  /** Counts items the collector refused before queueing (e.g. `invalid`) as received and dropped. */
  drop (reason: DropReason, count = 1): void {
    this.#ledger.refuse(reason, count)
  }

  /**
   * Begins sending, logging through `log` (the collector's child logger). The signal is the start
   * deadline of the collector contract; starting is synchronous, so it is not needed here.
   */
  start (signal: AbortSignal, log: Logger): void {
    void signal
    if (log !== undefined && log !== null) this.#log.log = log
    this.#begin()
  }

  /**
   * Resolves once every item enqueued before the call is delivered or dropped, or when `signal`
   * fires (items then stay queued). Never rejects.
   */
  flush (signal: AbortSignal): Promise<void> {
    const target = this.#seq
    if (this.#flushed(target) || signal?.aborted === true) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const stop = onAbort(signal, () => finish())
      const waiter: FlushWaiter = { target, done: () => finish() }
      const finish = (): void => {
        stop()
        const index = this.#waiters.indexOf(waiter)
        if (index !== -1) this.#waiters.splice(index, 1)
        this.#hold()
        resolve()
      }
      this.#waiters.push(waiter)
      this.#hold()
      if (target > this.#forceUntil) this.#forceUntil = target
      this.#begin()
      this.#pump()
    })
  }

  /**
   * Stops accepting, delivers what is queued, and at `signal` counts whatever is still queued or in
   * flight as `shutdown`, aborting requests in progress. Then clears timers and closes the pool.
   * Idempotent: a second call returns the first call's promise. Never rejects.
   */
  close (signal: AbortSignal): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true
      this.#closing = this.#close(signal).catch((error: unknown) => {
        this.#log.error('close', { error: redactText(errorText(error)) }, `${this.name}: delivery engine failed to close cleanly`)
      })
    }
    return this.#closing
  }

  stats (): DeliveryReport {
    return this.#ledger.report(this.#queue.length)
  }

  async #close (signal: AbortSignal): Promise<void> {
    this.#begin()
    this.#hold()
    if (!this.#isIdle() && signal?.aborted !== true) {
      await new Promise<void>((resolve) => {
        const stop = onAbort(signal, () => finish())
        const finish = (): void => {
          stop()
          this.#idle = undefined
          resolve()
        }
        this.#idle = finish
        this.#pump()
      })
    }
    if (!this.#isIdle()) this.#abandon()
    this.#end()
    if (!this.#ledger.balanced(this.#queue.length)) {
      const balance = this.#ledger.balance(this.#queue.length)
      this.#log.error('internal', { balance, ...this.stats() }, `${this.name}: delivery accounting does not balance (a bug: please report it)`)
    }
    await this.#transport?.close(signal)
  }

  #begin (): void {
    if (this.#started) return
    this.#started = true
    const s = this.#settings
    this.#transport = this.#ownTransport ?? new Transport({
      origin: s.origin,
      connections: s.concurrency,
      timeoutMs: s.timeoutMs,
      dispatcher: this.#dispatcher
    })
    if (this.#queue.length > this.#due) this.#armInterval()
    this.#schedule()
  }

  /** One timer for the whole engine, re-armed with refresh() (no timer per batch or event). */
  #armInterval (): void {
    if (!this.#started || this.#ended) return
    if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#onInterval, this.#settings.flushIntervalMs)
      if (!this.#holding) this.#timer.unref()
    } else {
      this.#timer.refresh()
    }
  }

  readonly #onInterval = (): void => {
    this.#due = this.#queue.length
    this.#pump()
  }

  /** Runs the pump once on the next turn of the event loop, however many events arrive until then. */
  #schedule (): void {
    if (this.#immediate === undefined && !this.#ended) this.#immediate = setImmediate(this.#onImmediate)
  }

  readonly #onImmediate = (): void => {
    this.#immediate = undefined
    if (this.#queueFullUnlogged > 0) {
      this.#log.warn('queueFull', { dropped: this.#queueFullUnlogged, maxQueueSize: this.#settings.maxQueueSize, maxQueueBytes: this.#settings.maxQueueBytes },
        `${this.name}: delivery queue full, events dropped`)
      this.#queueFullUnlogged = 0
    }
    this.#pump()
  }

  /** Starts what may start: pending requests first, then new batches, within the concurrency bound. */
  /** Started, not ended, and not already inside the pump (which calls out to adapters and may re-enter). */
  #canPump (): boolean {
    return this.#started && !this.#ended && !this.#pumping
  }

  #pump (): void {
    if (!this.#canPump()) return
    this.#pumping = true
    try {
      const s = this.#settings
      while (this.#troubled === 0 && this.#active < s.concurrency) {
        const next = this.#pending.shift()
        if (next !== undefined) {
          this.#attempt(next)
          continue
        }
        if (!this.#slotForBatch() || !this.#batchReady()) break
        this.#formBatch()
      }
    } finally {
      this.#pumping = false
    }
  }

  /**
   * A new batch has a concurrency slot: nothing waits to retry, the requests running and waiting
   * leave one free, and there is one batch per slot at most, so memory stays within
   * maxQueueSize + concurrency × maxBatchSize. The pump's test, and enqueue's for a burst.
   */
  #slotForBatch (): boolean {
    const concurrency = this.#settings.concurrency
    return this.#troubled === 0 && this.#active + this.#pending.length < concurrency && this.#batches.size < concurrency
  }

  #batchReady (): boolean {
    const length = this.#queue.length
    return length > 0 && (length >= this.#settings.maxBatchSize || this.#queue.bytes >= this.#settings.maxBatchBytes || this.#due > 0 || this.#closed || this.#taken < this.#forceUntil)
  }

  #formBatch (): void {
    // Out of the queue before anything else, so nothing sent can be taken twice.
    const items = this.#queue.take(this.#settings.maxBatchSize, this.#settings.maxBatchBytes)
    const size = items.length
    const batch: Batch = { firstSeq: this.#taken, open: 0, abandoned: false }
    this.#taken += size
    this.#due = Math.max(0, this.#due - size)
    this.#ledger.take(size)

    let prepared: PreparedBatch | Promise<PreparedBatch>
    try {
      prepared = this.#adapter.prepare(items)
    } catch (error) {
      this.#encodingFailed(size, error)
      return
    }
    if (!isPromiseLike(prepared)) {
      this.#dispatch(batch, size, prepared)
      return
    }
    // An asynchronous encoder (GA4 with a shared session store): the batch holds its concurrency
    // slot and keeps flush()/close() waiting while it is prepared; the close deadline abandons it.
    batch.open = 1
    this.#batches.add(batch)
    void prepared.then((result) => this.#prepared(batch, size, result, undefined),
      (error: unknown) => this.#prepared(batch, size, undefined, error ?? new Error('prepare rejected')))
  }

  #prepared (batch: Batch, size: number, result: PreparedBatch | undefined, error: unknown): void {
    // Counted `shutdown` by #abandon already: nothing of it may be counted twice.
    if (batch.abandoned) return
    // The batch stays in #batches (in creation order, which #flushed relies on) until dispatched.
    batch.open = 0
    if (result === undefined) {
      this.#batches.delete(batch)
      this.#encodingFailed(size, error)
    } else {
      this.#dispatch(batch, size, result)
    }
    this.#pump()
  }

  #encodingFailed (size: number, error: unknown): void {
    this.#ledger.settle(0, 'failed', size)
    this.#log.error('adapter', { events: size, error: redactText(errorText(error)) }, `${this.name}: encoding a batch failed, events dropped`)
    this.#checkWaiters()
  }

  #dispatch (batch: Batch, size: number, prepared: PreparedBatch): void {
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
      this.#ledger.settle(0, 'invalid', invalid)
      this.#log.warn('invalid', { events: invalid }, `${this.name}: events cannot be sent, dropped`)
    }
    if (remaining > 0) {
      // The adapter accounted for fewer events than it was given: count them rather than lose them.
      this.#ledger.settle(0, 'failed', remaining)
      this.#log.error('adapter', { events: remaining }, `${this.name}: the encoder accounted for fewer events than it was given`)
    }
    if (deliveries.length === 0) {
      this.#batches.delete(batch)
      this.#checkWaiters()
      return
    }
    batch.open = deliveries.length
    this.#batches.add(batch)
    for (const delivery of deliveries) {
      this.#live.add(delivery)
      this.#pending.push(delivery)
    }
  }

  #attempt (delivery: Delivery): void {
    delivery.attempt++
    if (delivery.attempt > 1) this.#ledger.retry()
    this.#active++
    this.#run(delivery).catch((error: unknown) => {
      // Only a bug in the engine itself can land here (adapter errors are caught where they happen).
      this.#log.error('internal', { error: redactText(errorText(error), deliverySecrets(delivery)) }, `${this.name}: delivery error`)
      if (!delivery.settled) this.#settle(delivery, 0, 'failed')
      this.#pump()
    })
  }

  async #run (delivery: Delivery): Promise<void> {
    let response: HttpResponse
    try {
      // Inside the try: an adapter that throws here fails this attempt, which is retried and counted like any other.
      this.#adapter.beforeAttempt?.(delivery.request, delivery.attempt)
      response = await (this.#transport as DeliveryTransport).send(delivery.request, this.#lifetime.signal)
    } catch (error) {
      this.#active--
      if (!delivery.settled) this.#onFailure(delivery, error)
      this.#pump()
      return
    }
    this.#active--
    if (!delivery.settled) this.#onResponse(delivery, response)
    this.#pump()
  }

  #onResponse (delivery: Delivery, response: HttpResponse): void {
    let verdict: Verdict
    try {
      verdict = this.#interpret(response, delivery.request)
    } catch (error) {
      this.#settle(delivery, 0, 'failed')
      this.#log.error('adapter', {
        statusCode: response.statusCode,
        path: redactPath(delivery.request.path),
        error: redactText(errorText(error), deliverySecrets(delivery))
      }, `${this.name}: reading a response failed, events dropped`)
      return
    }
    const events = delivery.events
    switch (verdict?.outcome) {
      case 'delivered': {
        const destination = clampCount(verdict.destinationDropped, events)
        const rejected = clampCount(verdict.rejected, events - destination)
        if (rejected > 0) this.#ledger.settle(0, 'rejected', rejected)
        this.#settle(delivery, events - destination - rejected, 'destination', destination)
        if (destination > 0 || rejected > 0) {
          this.#log.warn(destination > 0 ? 'destination' : 'rejected', this.#fields(delivery, {
            statusCode: response.statusCode, destinationDropped: destination, rejected, detail: verdict.detail
          }), `${this.name}: the destination discarded or refused events`)
        }
        return
      }
      case 'retry':
        this.#retryOrFail(delivery, verdict.retryAfterMs, { statusCode: response.statusCode, detail: verdict.detail })
        return
      case 'rejected':
        this.#settle(delivery, 0, 'rejected')
        this.#log.warn('rejected', this.#fields(delivery, { statusCode: response.statusCode, detail: verdict.detail }),
          `${this.name}: the destination rejected a request, events dropped`)
        return
      default:
        this.#settle(delivery, 0, 'failed')
        this.#log.error('adapter', this.#fields(delivery, { statusCode: response.statusCode }),
          `${this.name}: interpret returned no verdict, events dropped`)
    }
  }

  #onFailure (delivery: Delivery, error: unknown): void {
    const failure = error instanceof TransportError ? error : classifyError(error, { deadline: false, aborted: false })
    if (failure.kind === 'invalid' || failure.kind === 'aborted') {
      // undici refused the request itself (retrying cannot help), or someone else aborted it.
      this.#settle(delivery, 0, 'failed')
      this.#log.error('failed', this.#fields(delivery, { code: failure.code, detail: failure.message }),
        `${this.name}: request could not be sent, events dropped`)
      return
    }
    this.#retryOrFail(delivery, undefined, { code: failure.code, detail: failure.message })
  }

  #retryOrFail (delivery: Delivery, retryAfterMs: number | undefined, fields: Record<string, unknown>): void {
    const s = this.#settings
    if (delivery.attempt >= s.maxAttempts) {
      this.#settle(delivery, 0, 'failed')
      this.#log.error('failed', this.#fields(delivery, fields), `${this.name}: delivery failed after ${delivery.attempt} attempts, events dropped`)
      return
    }
    if (!delivery.troubled) {
      delivery.troubled = true
      this.#troubled++
    }
    const delay = backoffDelay(this.#settings, delivery.attempt, retryAfterMs)
    this.#log.warn('retry', this.#fields(delivery, { ...fields, retryInMs: delay }), `${this.name}: delivery attempt failed, will retry`)
    delivery.timer = setTimeout(this.#onRetryTimer, delay, delivery)
    if (!this.#holding) delivery.timer.unref()
  }

  readonly #onRetryTimer = (delivery: Delivery): void => {
    delivery.timer = undefined
    if (!delivery.settled && !this.#ended) this.#attempt(delivery)
  }

  /** Ends a request: `delivered` events delivered, the rest of its events dropped for `reason`. */
  #settle (delivery: Delivery, delivered: number, reason: DropReason, dropped = delivery.events - delivered): void {
    delivery.settled = true
    if (delivery.timer !== undefined) clearTimeout(delivery.timer)
    if (delivery.troubled) this.#troubled--
    this.#live.delete(delivery)
    this.#ledger.settle(delivered, reason, dropped)
    const batch = delivery.batch
    if (--batch.open === 0) {
      this.#batches.delete(batch)
      this.#checkWaiters()
    }
  }

  #flushed (target: number): boolean {
    if (this.#taken < target) return false
    // Batches are created in order, so the first in the set holds the lowest sequence numbers.
    const first = this.#batches.values().next()
    return first.done === true || first.value.firstSeq >= target
  }

  #isIdle (): boolean {
    return this.#queue.length === 0 && this.#batches.size === 0
  }

  #checkWaiters (): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]
      if (this.#flushed(waiter.target)) waiter.done()
    }
    if (this.#idle !== undefined && this.#isIdle()) this.#idle()
  }

  /** At the shutdown deadline: whatever is queued or in flight is counted `shutdown`, requests aborted. */
  #abandon (): void {
    const count = this.#ledger.abandon(this.#queue.length)
    this.#queue.clear()
    this.#due = 0
    this.#taken = this.#seq
    for (const delivery of this.#live) {
      delivery.settled = true
      if (delivery.timer !== undefined) clearTimeout(delivery.timer)
    }
    this.#live.clear()
    this.#pending.length = 0
    for (const batch of this.#batches) batch.abandoned = true
    this.#batches.clear()
    this.#troubled = 0
    this.#lifetime.abort()
    this.#log.warn('shutdown', { dropped: count }, `${this.name}: shutdown deadline reached, undelivered events dropped`)
    this.#checkWaiters()
  }

  /**
   * Timers are unref'd so analytics never keeps a process alive, except while a flush or close is
   * awaited: then a retry wait may be all the event loop holds, and letting the process exit there
   * would drop the events silently (a job script ending with `await app.analytics.flush()`).
   * The caller's signal bounds the wait.
   */
  #hold (): void {
    const holding = !this.#ended && (this.#waiters.length > 0 || this.#closed)
    if (holding === this.#holding) return
    this.#holding = holding
    const apply = (timer: NodeJS.Timeout | undefined): void => {
      if (timer === undefined) return
      if (holding) timer.ref()
      else timer.unref()
    }
    apply(this.#timer)
    for (const delivery of this.#live) apply(delivery.timer)
  }

  #end (): void {
    this.#ended = true
    this.#hold()
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#immediate = undefined
    this.#lifetime.abort()
    this.#checkWaiters()
  }

  #fields (delivery: Delivery, extra: Record<string, unknown>): Record<string, unknown> {
    return logFields(delivery, this.#settings.maxAttempts, extra)
  }
}
