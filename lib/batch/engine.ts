import { setMaxListeners } from 'node:events'
import type { DeliveryReport, DropReason } from '../collector.js'
import { redactText } from '../http/index.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { errorText } from '../util.js'
import { Attempts } from './attempts.js'
import { Batches } from './batches.js'
import { FlushWaiters } from './flush-waiters.js'
import { Ledger, type LedgerObserver } from './ledger.js'
import { Queue } from './queue.js'
import { defaultItemBytes, resolveSettings, safeItemBytes, type DeliveryEngineOptions, type Settings } from './settings.js'
import { EngineTimers } from './timers.js'

/**
 * The delivery half every HTTP collector shares: a bounded FIFO queue, batching by size and by
 * interval, at most `concurrency` requests in flight, retries with backoff (attempts.ts), flush and
 * close waiting (flush-waiters.ts), and the accounting behind `stats()`. At every moment: received
 * (enqueue + drop) = delivered + Σ dropped + queued + inFlight (the Ledger keeps the figures;
 * close() checks the balance); once `close()` has resolved, queued = inFlight = 0.
 */
export class DeliveryEngine<T> {
  readonly name: string
  readonly #settings: Settings
  readonly #options: DeliveryEngineOptions<T>
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
  readonly #attempts: Attempts
  readonly #batches: Batches<T>
  readonly #timers: EngineTimers

  #started = false
  #closed = false
  #ended = false
  #pumping = false
  readonly #lifetime = new AbortController()
  readonly #log = new RateLimitedLog(silentLogger)
  readonly #waiters = new FlushWaiters(() => this.#hold())
  #closing: Promise<void> | undefined = undefined
  /** A flush or close is waiting: timers keep the process alive meanwhile (see #hold). */
  #holding = false

  constructor (options: DeliveryEngineOptions<T>) {
    const settings = this.#settings = resolveSettings(options)
    this.name = settings.name
    this.#options = options
    this.#itemBytes = options.itemBytes ?? defaultItemBytes
    const parts = { name: this.name, settings, ledger: this.#ledger, log: this.#log, pump: () => this.#pump() }
    const adapter = options.adapter
    const attempts = this.#attempts = new Attempts({ ...parts, adapter, signal: this.#lifetime.signal, batchDone: (batch) => this.#batches.done(batch) })
    this.#batches = new Batches({ ...parts, adapter, attempts, ended: () => this.#checkWaiters() })
    this.#timers = new EngineTimers(settings.flushIntervalMs, this.#onInterval, this.#onTurn)
    // Every attempt in progress listens on this signal; past 10, Node would warn of a leak.
    setMaxListeners(settings.concurrency + 10, this.#lifetime.signal)
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
    const bytes = safeItemBytes(this.#itemBytes, item)
    // A burst that arrives within one turn (a worker's hand-over of many requests' events, a job's
    // loop of track() calls) would find the queue full while a sending slot is still free, because
    // the pump only runs on the next turn: take the batch the pump would take now, so the bound is
    // maxQueueSize + concurrency × maxBatchSize (in bytes: maxQueueBytes + concurrency × maxBatchBytes)
    // however the events arrive. No I/O: the request is made by the pump, as always.
    if (this.#full(bytes) && queue.length > 0 && this.#canPump() && this.#slotForBatch()) this.#formBatch()
    if (this.#full(bytes)) {
      this.#ledger.refuse('queueFull')
      this.#queueFullUnlogged++
      this.#timers.nextTurn()
      return
    }
    this.#ledger.receive()
    queue.push(item, bytes)
    this.#seq++
    // The first item not yet due starts the interval: it is the oldest of those waiting for it.
    if (queue.length - this.#due === 1 && this.#started) this.#timers.arm()
    if (queue.length >= this.#settings.maxBatchSize || queue.bytes >= this.#settings.maxBatchBytes) this.#timers.nextTurn()
  }

  /** Whether an item of `bytes` would take the queue past either bound. */
  #full (bytes: number): boolean {
    const s = this.#settings
    return this.#queue.length >= s.maxQueueSize || this.#queue.bytes + bytes > s.maxQueueBytes
  }

  /** Counts items the collector refused before queueing (e.g. `invalid`) as received and dropped. */
  drop (reason: DropReason, count = 1): void {
    this.#ledger.refuse(reason, count)
  }

  /**
   * Begins sending, logging through `log` (the collector's child logger), and calling `onChange`
   * after every change to the figures `stats()` reports (see `CollectorContext.onStatsChange`). The
   * signal is the start deadline of the collector contract; starting is synchronous, so it is not needed here.
   */
  start (signal: AbortSignal, log: Logger, onChange?: LedgerObserver): void {
    void signal
    if (log !== undefined && log !== null) this.#log.log = log
    if (typeof onChange === 'function') this.#ledger.observer = onChange
    this.#begin()
  }

  /**
   * Resolves once every item enqueued before the call is delivered or dropped, or when `signal`
   * fires (items then stay queued). Never rejects.
   */
  flush (signal: AbortSignal): Promise<void> {
    const target = this.#seq
    if (this.#flushed(target) || signal?.aborted === true) return Promise.resolve()
    const flushed = this.#waiters.flush(target, signal)
    if (target > this.#forceUntil) this.#forceUntil = target
    this.#begin()
    this.#pump()
    return flushed
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
      const idle = this.#waiters.idle(signal)
      this.#pump()
      await idle
    }
    if (!this.#isIdle()) this.#abandon()
    this.#end()
    if (!this.#ledger.balanced(this.#queue.length)) {
      this.#log.error('internal', { balance: this.#ledger.balance(this.#queue.length), ...this.stats() }, `${this.name}: delivery accounting does not balance (a bug: please report it)`)
    }
    await this.#attempts.transport?.close(signal)
  }

  #begin (): void {
    if (this.#started) return
    this.#started = true
    this.#attempts.open(this.#options.transport, this.#options.dispatcher)
    if (this.#queue.length > this.#due) this.#timers.arm()
    this.#timers.nextTurn()
  }

  readonly #onInterval = (): void => {
    this.#due = this.#queue.length
    this.#pump()
  }

  readonly #onTurn = (): void => {
    if (this.#queueFullUnlogged > 0) {
      this.#log.warn('queueFull', { dropped: this.#queueFullUnlogged, maxQueueSize: this.#settings.maxQueueSize, maxQueueBytes: this.#settings.maxQueueBytes },
        `${this.name}: delivery queue full, events dropped`)
      this.#queueFullUnlogged = 0
    }
    this.#pump()
  }

  /** Started, not ended, and not already inside the pump (which calls out to adapters and may re-enter). */
  #canPump (): boolean {
    return this.#started && !this.#ended && !this.#pumping
  }

  /** Starts what may start: pending requests first, then new batches, within the concurrency bound. */
  #pump (): void {
    if (!this.#canPump()) return
    this.#pumping = true
    try {
      const attempts = this.#attempts
      const concurrency = this.#settings.concurrency
      while (attempts.troubled === 0 && attempts.active < concurrency) {
        if (attempts.startNext()) continue
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
    const attempts = this.#attempts
    return attempts.troubled === 0 && attempts.active + attempts.waiting < concurrency && this.#batches.size < concurrency
  }

  #batchReady (): boolean {
    const length = this.#queue.length
    return length > 0 && (length >= this.#settings.maxBatchSize || this.#queue.bytes >= this.#settings.maxBatchBytes || this.#due > 0 || this.#closed || this.#taken < this.#forceUntil)
  }

  #formBatch (): void {
    // Out of the queue before anything else, so nothing sent can be taken twice.
    const items = this.#queue.take(this.#settings.maxBatchSize, this.#settings.maxBatchBytes)
    const firstSeq = this.#taken
    this.#taken += items.length
    this.#due = Math.max(0, this.#due - items.length)
    this.#ledger.take(items.length)
    this.#batches.send(items, firstSeq)
  }

  readonly #flushed = (target: number): boolean => this.#batches.flushed(target, this.#taken)

  #isIdle (): boolean {
    return this.#queue.length === 0 && this.#batches.size === 0
  }

  #checkWaiters (): void {
    this.#waiters.wake(this.#flushed, this.#isIdle())
  }

  /** At the shutdown deadline: whatever is queued or in flight is counted `shutdown`, requests aborted. */
  #abandon (): void {
    const count = this.#ledger.abandon(this.#queue.length)
    this.#queue.clear()
    this.#due = 0
    this.#taken = this.#seq
    this.#attempts.abandon()
    this.#batches.abandon()
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
    const holding = !this.#ended && (this.#waiters.waiting || this.#closed)
    if (holding === this.#holding) return
    this.#holding = holding
    this.#timers.hold(holding)
    this.#attempts.hold(holding)
  }

  #end (): void {
    this.#ended = true
    this.#attempts.ended = true
    this.#hold()
    this.#timers.end()
    this.#lifetime.abort()
    this.#checkWaiters()
  }
}
