import { Queue } from './queue.js'
import { setMaxListeners } from 'node:events'
import { DROP_REASONS, type DeliveryReport, type DropCounts, type DropReason } from '../collector.js'
import { FST_ANALYTICS_INVALID_OPTION } from '../errors.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'
import { classifyError, defaultInterpret, TransportError } from '../http/classify.js'
import { redactPath, redactText, secretValues } from '../http/redact.js'
import { Transport } from '../http/transport.js'
import type { BatchingOptions, DeliveryAdapter, DeliveryTransport, HttpResponse, OutgoingRequest, Verdict } from './types.js'

export const DEFAULT_MAX_QUEUE_SIZE = 10_000
export const DEFAULT_TIMEOUT_MS = 10_000
export const DEFAULT_RETRY_BASE_DELAY_MS = 500
export const DEFAULT_RETRY_MAX_DELAY_MS = 30_000
export const DEFAULT_RETRY_MAX_ATTEMPTS = 5
// setTimeout fires at once for anything above 2^31 - 1 ms.
const MAX_TIMER_MS = 2_147_483_647

export interface DeliveryEngineOptions<T> extends BatchingOptions {
  /** The collector's name, for logs and error messages. */
  name: string
  /** `scheme://host[:port]` only, e.g. `https://www.google-analytics.com`. Unused (and unchecked) with `transport`. */
  origin: string
  adapter: DeliveryAdapter<T>
  /** Sends attempts some other way than over HTTP (a database client). Default: an undici pool on `origin`. */
  transport?: DeliveryTransport
  /** The collector's own defaults for what the user did not set. */
  defaults: { maxBatchSize: number, flushIntervalMs: number, concurrency: number }
}

/** Every option after validation and defaults. */
interface Settings {
  name: string
  origin: string
  maxQueueSize: number
  maxBatchSize: number
  flushIntervalMs: number
  concurrency: number
  timeoutMs: number
  baseDelayMs: number
  maxDelayMs: number
  maxAttempts: number
}

/** A run of items taken from the queue together; flush() waits for batches by their first item. */
interface Batch {
  /** Sequence number of the batch's first item (items are numbered as they enter the queue). */
  firstSeq: number
  /** Requests of this batch not yet settled. */
  open: number
}

/** One OutgoingRequest through its attempts. The same `request` object is sent on every attempt. */
class Delivery {
  readonly request: OutgoingRequest
  /** Events this request accounts for (the adapter's count, clamped to the batch). */
  readonly events: number
  readonly batch: Batch
  attempt = 0
  settled = false
  /** An attempt failed and the request is not settled yet: the engine sends nothing new meanwhile. */
  troubled = false
  timer: NodeJS.Timeout | undefined = undefined

  constructor (request: OutgoingRequest, events: number, batch: Batch) {
    this.request = request
    this.events = events
    this.batch = batch
  }
}

interface FlushWaiter {
  /** Resolved once every item numbered below this has been delivered or dropped. */
  target: number
  done: () => void
}

/**
 * The delivery half every HTTP collector shares: a bounded FIFO queue, batching by size and by
 * interval, at most `concurrency` requests in flight, retries with backoff, and the accounting
 * behind `stats()`. At every moment: received (enqueue + drop) = delivered + Σ dropped + queued +
 * inFlight; once `close()` has resolved, queued = inFlight = 0.
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

  readonly #queue = new Queue<T>()
  /** Items at the head of the queue whose flush interval has passed. */
  #due = 0
  /** Items ever put in the queue, and items ever taken out of it (sent or dropped at shutdown). */
  #seq = 0
  #taken = 0
  /** Partial batches are sent at once until `#taken` reaches this (a flush is waiting). */
  #forceUntil = 0

  #received = 0
  #delivered = 0
  #retries = 0
  #inFlight = 0
  readonly #dropped: DropCounts = { queueFull: 0, invalid: 0, rejected: 0, destination: 0, failed: 0, shutdown: 0, closed: 0 }
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
    // Every attempt in progress listens on this signal; past 10, Node would warn of a leak.
    setMaxListeners(this.#settings.concurrency + 10, this.#lifetime.signal)
  }

  /** The resolved concurrency and per-attempt timeout, for a `transport` that sizes its own pool. */
  get limits (): { concurrency: number, timeoutMs: number } {
    return { concurrency: this.#settings.concurrency, timeoutMs: this.#settings.timeoutMs }
  }

  /** Queues one item. Synchronous, O(1), no I/O, never throws: a refused item is counted. */
  enqueue (item: T): void {
    this.#received++
    if (this.#closed) {
      this.#dropped.closed++
      return
    }
    const queue = this.#queue
    if (queue.length >= this.#settings.maxQueueSize) {
      this.#dropped.queueFull++
      this.#queueFullUnlogged++
      this.#schedule()
      return
    }
    queue.push(item)
    this.#seq++
    // The first item not yet due starts the interval: it is the oldest of those waiting for it.
    if (queue.length - this.#due === 1) this.#armInterval()
    if (queue.length >= this.#settings.maxBatchSize) this.#schedule()
  }

  /** Counts items the collector refused before queueing (e.g. `invalid`) as received and dropped. */
  drop (reason: DropReason, count = 1): void {
    if (!Number.isSafeInteger(count) || count <= 0) return
    const key: DropReason = DROP_REASONS.includes(reason) ? reason : 'invalid'
    this.#received += count
    this.#dropped[key] += count
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
    return {
      delivered: this.#delivered,
      dropped: { ...this.#dropped },
      retries: this.#retries,
      queued: this.#queue.length,
      inFlight: this.#inFlight
    }
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
      this.#log.warn('queueFull', { dropped: this.#queueFullUnlogged, maxQueueSize: this.#settings.maxQueueSize },
        `${this.name}: delivery queue full, events dropped`)
      this.#queueFullUnlogged = 0
    }
    this.#pump()
  }

  /** Starts what may start: pending requests first, then new batches, within the concurrency bound. */
  #pump (): void {
    if (!this.#started || this.#ended || this.#pumping) return
    this.#pumping = true
    try {
      const s = this.#settings
      while (this.#troubled === 0 && this.#active < s.concurrency) {
        const next = this.#pending.shift()
        if (next !== undefined) {
          this.#attempt(next)
          continue
        }
        // One batch per concurrency slot at most: memory stays within maxQueueSize + concurrency × maxBatchSize.
        if (this.#batches.size >= s.concurrency || !this.#batchReady()) break
        this.#formBatch()
      }
    } finally {
      this.#pumping = false
    }
  }

  #batchReady (): boolean {
    const length = this.#queue.length
    return length > 0 && (length >= this.#settings.maxBatchSize || this.#due > 0 || this.#closed || this.#taken < this.#forceUntil)
  }

  #formBatch (): void {
    // Out of the queue before anything else, so nothing sent can be taken twice.
    const items = this.#queue.take(this.#settings.maxBatchSize)
    const size = items.length
    const batch: Batch = { firstSeq: this.#taken, open: 0 }
    this.#taken += size
    this.#due = Math.max(0, this.#due - size)
    this.#inFlight += size

    let requests: unknown
    let invalid: number
    try {
      const prepared = this.#adapter.prepare(items)
      requests = prepared?.requests
      invalid = clampCount(prepared?.invalid, size)
    } catch (error) {
      this.#inFlight -= size
      this.#dropped.failed += size
      this.#log.error('adapter', { events: size, error: redactText(errorText(error)) }, `${this.name}: encoding a batch failed, events dropped`)
      this.#checkWaiters()
      return
    }

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
      this.#inFlight -= invalid
      this.#dropped.invalid += invalid
      this.#log.warn('invalid', { events: invalid }, `${this.name}: events cannot be sent, dropped`)
    }
    if (remaining > 0) {
      // The adapter accounted for fewer events than it was given: count them rather than lose them.
      this.#inFlight -= remaining
      this.#dropped.failed += remaining
      this.#log.error('adapter', { events: remaining }, `${this.name}: the encoder accounted for fewer events than it was given`)
    }
    if (deliveries.length === 0) {
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
    if (delivery.attempt > 1) this.#retries++
    this.#active++
    this.#run(delivery).catch((error: unknown) => {
      // Only a bug in the engine itself can land here (adapter errors are caught where they happen).
      this.#log.error('internal', { error: redactText(errorText(error), this.#secrets(delivery)) }, `${this.name}: delivery error`)
      if (!delivery.settled) this.#settle(delivery, 0, 'failed')
      this.#pump()
    })
  }

  async #run (delivery: Delivery): Promise<void> {
    let response: HttpResponse
    try {
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
        error: redactText(errorText(error), this.#secrets(delivery))
      }, `${this.name}: reading a response failed, events dropped`)
      return
    }
    const events = delivery.events
    switch (verdict?.outcome) {
      case 'delivered': {
        const destination = clampCount(verdict.destinationDropped, events)
        const rejected = clampCount(verdict.rejected, events - destination)
        this.#settle(delivery, events - destination - rejected, 'destination', destination)
        if (rejected > 0) this.#dropped.rejected += rejected
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
    const delay = this.#backoff(delivery.attempt, retryAfterMs)
    this.#log.warn('retry', this.#fields(delivery, { ...fields, retryInMs: delay }), `${this.name}: delivery attempt failed, will retry`)
    delivery.timer = setTimeout(this.#onRetryTimer, delay, delivery)
    if (!this.#holding) delivery.timer.unref()
  }

  readonly #onRetryTimer = (delivery: Delivery): void => {
    delivery.timer = undefined
    if (!delivery.settled && !this.#ended) this.#attempt(delivery)
  }

  /** Full jitter (random in [0, min(max, base·2^(attempt-1))]), but never sooner than Retry-After allows. */
  #backoff (attempt: number, retryAfterMs: number | undefined): number {
    const { baseDelayMs, maxDelayMs } = this.#settings
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
    let delay = Math.floor(Math.random() * (ceiling + 1))
    if (typeof retryAfterMs === 'number' && retryAfterMs > delay) delay = retryAfterMs
    return Math.min(delay, maxDelayMs)
  }

  /** Ends a request: `delivered` events delivered, the rest of its events dropped for `reason`. */
  #settle (delivery: Delivery, delivered: number, reason: DropReason, dropped = delivery.events - delivered): void {
    delivery.settled = true
    if (delivery.timer !== undefined) clearTimeout(delivery.timer)
    if (delivery.troubled) this.#troubled--
    this.#live.delete(delivery)
    this.#inFlight -= delivery.events
    this.#delivered += delivered
    this.#dropped[reason] += dropped
    const batch = delivery.batch
    if (--batch.open === 0) {
      this.#batches.delete(batch)
      this.#checkWaiters()
    }
  }

  #flushed (target: number): boolean {
    if (this.#taken < target) return false
    // Batches are created in order, so the first in the set holds the lowest sequence numbers.
    for (const batch of this.#batches) return batch.firstSeq >= target
    return true
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
    const count = this.#queue.length + this.#inFlight
    this.#dropped.shutdown += count
    this.#queue.clear()
    this.#due = 0
    this.#taken = this.#seq
    this.#inFlight = 0
    for (const delivery of this.#live) {
      delivery.settled = true
      if (delivery.timer !== undefined) clearTimeout(delivery.timer)
    }
    this.#live.clear()
    this.#pending.length = 0
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

  #secrets (delivery: Delivery): string[] {
    return secretValues(delivery.request.path, delivery.request.headers)
  }

  /** Log fields for a request: never its raw path, headers or body. */
  #fields (delivery: Delivery, extra: Record<string, unknown>): Record<string, unknown> {
    const fields: Record<string, unknown> = {
      path: redactPath(delivery.request.path),
      attempt: delivery.attempt,
      maxAttempts: this.#settings.maxAttempts,
      events: delivery.events
    }
    const secrets = this.#secrets(delivery)
    for (const [key, value] of Object.entries(extra)) {
      if (value === undefined) continue
      fields[key] = typeof value === 'string' ? redactText(value, secrets) : value
    }
    return fields
  }
}

/** Adds an abort listener that runs at most once; returns its remover. Tolerates a missing signal. */
function onAbort (signal: AbortSignal | undefined, listener: () => void): () => void {
  if (signal === undefined || signal === null || typeof signal.addEventListener !== 'function') return noop
  signal.addEventListener('abort', listener, { once: true })
  return () => signal.removeEventListener('abort', listener)
}

const noop = (): void => {}

function clampCount (value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0
  return Math.min(Math.floor(value), max)
}

function isOutgoingRequest (value: unknown): value is OutgoingRequest {
  if (typeof value !== 'object' || value === null) return false
  const { path, headers, body } = value as Partial<OutgoingRequest>
  return typeof path === 'string' &&
    (typeof headers === 'object' && headers !== null) &&
    (typeof body === 'string' || body instanceof Uint8Array)
}

function errorText (error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

// ---- option validation ---------------------------------------------------------------------

function invalid (message: string): Error {
  return new FST_ANALYTICS_INVALID_OPTION(message)
}

function integer (name: string, value: unknown, min: number, fallback: number | undefined, where: string): number {
  if (value === undefined) {
    if (fallback === undefined) throw invalid(`${where}${name} is required`)
    return fallback
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > MAX_TIMER_MS) {
    const shown = typeof value === 'number' ? String(value) : typeof value
    throw invalid(`${where}${name} must be an integer from ${min} to ${MAX_TIMER_MS} (got ${shown})`)
  }
  return value
}

function checkOrigin (value: unknown, where: string): string {
  if (typeof value !== 'string') throw invalid(`${where}origin must be a string like "https://host[:port]"`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid(`${where}origin must be an absolute URL like "https://host[:port]" (got "${redactText(value, [], 100)}")`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`${where}origin must use http or https (got "${url.protocol}")`)
  }
  // Credentials belong in headers the adapter builds, never in the origin (they would be logged).
  if (url.username !== '' || url.password !== '') throw invalid(`${where}origin must not contain credentials`)
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw invalid(`${where}origin must be scheme://host[:port] with no path, query or fragment (got "${redactPath(value)}")`)
  }
  return url.origin
}

/** Validates and completes the options; pure, so a bad option fails before any timer or socket exists. */
function resolveSettings<T> (options: DeliveryEngineOptions<T>): Settings {
  if (typeof options !== 'object' || options === null) throw invalid('delivery engine options must be an object')
  const name = options.name
  if (typeof name !== 'string' || name === '') throw invalid('delivery engine name must be a non-empty string')
  const where = `${name}: `
  const transport = options.transport
  if (transport !== undefined && (typeof transport !== 'object' || transport === null ||
    typeof transport.send !== 'function' || typeof transport.close !== 'function')) {
    throw invalid(`${where}transport must be an object with send(request, signal) and close(signal) methods`)
  }
  const origin = transport === undefined ? checkOrigin(options.origin, where) : String(options.origin ?? '')
  const adapter = options.adapter
  if (typeof adapter !== 'object' || adapter === null || typeof adapter.prepare !== 'function') {
    throw invalid(`${where}adapter must be an object with a prepare(items) method`)
  }
  if (adapter.interpret !== undefined && typeof adapter.interpret !== 'function') {
    throw invalid(`${where}adapter.interpret must be a function`)
  }
  const defaults = options.defaults
  if (typeof defaults !== 'object' || defaults === null) throw invalid(`${where}defaults must be an object`)
  const dispatcher = options.dispatcher
  if (dispatcher !== undefined && (typeof dispatcher !== 'object' || dispatcher === null || typeof dispatcher.request !== 'function')) {
    throw invalid(`${where}dispatcher must be an undici Dispatcher`)
  }
  const retry = options.retry === undefined ? {} : options.retry
  if (typeof retry !== 'object' || retry === null) throw invalid(`${where}retry must be an object`)

  const baseDelayMs = integer('retry.baseDelayMs', retry.baseDelayMs, 0, DEFAULT_RETRY_BASE_DELAY_MS, where)
  const maxDelayMs = integer('retry.maxDelayMs', retry.maxDelayMs, 0, DEFAULT_RETRY_MAX_DELAY_MS, where)
  return {
    name,
    origin,
    maxQueueSize: integer('maxQueueSize', options.maxQueueSize, 1, DEFAULT_MAX_QUEUE_SIZE, where),
    maxBatchSize: integer('maxBatchSize', options.maxBatchSize, 1, integer('defaults.maxBatchSize', defaults.maxBatchSize, 1, undefined, where), where),
    flushIntervalMs: integer('flushIntervalMs', options.flushIntervalMs, 1, integer('defaults.flushIntervalMs', defaults.flushIntervalMs, 1, undefined, where), where),
    concurrency: integer('concurrency', options.concurrency, 1, integer('defaults.concurrency', defaults.concurrency, 1, undefined, where), where),
    timeoutMs: integer('timeoutMs', options.timeoutMs, 1, DEFAULT_TIMEOUT_MS, where),
    baseDelayMs,
    maxDelayMs,
    maxAttempts: integer('retry.maxAttempts', retry.maxAttempts, 1, DEFAULT_RETRY_MAX_ATTEMPTS, where)
  }
}
