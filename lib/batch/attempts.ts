import type { DropReason } from '../collector.js'
import type { Dispatcher } from 'undici'
import { classifyError, redactPath, redactText, Transport, TransportError, type HttpResponse, type OutgoingRequest } from '../http/index.js'
import type { RateLimitedLog } from '../log.js'
import { errorText } from '../util.js'
import { backoffDelay, clampCount, deliverySecrets, logFields, type Batch, type Delivery } from './delivery.js'
import type { Ledger } from './ledger.js'
import type { Settings } from './settings.js'
import type { DeliveryAdapter, DeliveryTransport, Verdict } from './types.js'
import { defaultInterpret } from './verdict.js'

/** What the engine's parts share: its name, accounting and log, and its pump. */
export interface EngineParts {
  name: string
  settings: Settings
  ledger: Ledger
  log: RateLimitedLog
  /** Starts what may start (a slot freed, requests became ready). */
  pump: () => void
}

export interface AttemptsOptions extends EngineParts {
  adapter: Pick<DeliveryAdapter<unknown>, 'beforeAttempt' | 'interpret'>
  /** Aborts every attempt in progress (the engine's lifetime). */
  signal: AbortSignal
  /** The last open request of `batch` settled. */
  batchDone: (batch: Batch) => void
}

/**
 * Requests through their attempts: each sent, its response read by the adapter, retried with
 * backoff (honouring Retry-After) up to `maxAttempts`, and settled into the ledger once. While a
 * request waits to retry (`troubled`), the engine starts nothing new: a destination in trouble is
 * not sent more. The engine decides when a request may start; this decides what becomes of it.
 *
 * The retry loop is written here rather than delegated to undici's RetryAgent / retry interceptor:
 * those retry inside one dispatch, invisibly, so the engine could neither pause new requests while
 * one waits to retry (head-of-line pause), nor count retries, nor cancel a wait at the shutdown
 * deadline and count its events as `shutdown`; and they skip POST unless told otherwise.
 */
export class Attempts {
  readonly #o: AttemptsOptions
  readonly #interpret: (response: HttpResponse, request: OutgoingRequest) => Verdict
  /** Requests prepared and not started yet, and requests not settled. */
  readonly #pending: Delivery[] = []
  readonly #live = new Set<Delivery>()
  /** Attempts in progress. */
  active = 0
  /** Requests that failed an attempt and are not settled: while any, nothing new is sent. */
  troubled = 0
  transport: DeliveryTransport | undefined = undefined
  /** A flush or close is waiting: retry timers keep the process alive meanwhile. */
  #holding = false
  ended = false

  constructor (options: AttemptsOptions) {
    this.#o = options
    const interpret = options.adapter.interpret
    this.#interpret = typeof interpret === 'function' ? interpret.bind(options.adapter) : defaultInterpret
  }

  /** Sends through `transport`, or an undici pool on the settings' origin sized to the concurrency. */
  open (transport: DeliveryTransport | undefined, dispatcher: Dispatcher | undefined): void {
    const s = this.#o.settings
    this.transport = transport ?? new Transport({ origin: s.origin, connections: s.concurrency, timeoutMs: s.timeoutMs, dispatcher })
  }

  /** Requests waiting for their first attempt. */
  get waiting (): number {
    return this.#pending.length
  }

  add (delivery: Delivery): void {
    this.#live.add(delivery)
    this.#pending.push(delivery)
  }

  /** Starts the next request waiting, if any; false when none waits. */
  startNext (): boolean {
    const next = this.#pending.shift()
    if (next === undefined) return false
    this.#attempt(next)
    return true
  }

  #attempt (delivery: Delivery): void {
    delivery.attempt++
    if (delivery.attempt > 1) this.#o.ledger.retry()
    this.active++
    this.#run(delivery).catch((error: unknown) => {
      // Only a bug in the engine itself can land here (adapter errors are caught where they happen).
      this.#o.log.error('internal', { error: redactText(errorText(error), deliverySecrets(delivery)) }, `${this.#o.name}: delivery error`)
      if (!delivery.settled) this.#settle(delivery, 0, 'failed')
      this.#o.pump()
    })
  }

  async #run (delivery: Delivery): Promise<void> {
    let response: HttpResponse
    try {
      // Inside the try: an adapter that throws here fails this attempt, which is retried and counted like any other.
      this.#o.adapter.beforeAttempt?.(delivery.request, delivery.attempt)
      response = await (this.transport as DeliveryTransport).send(delivery.request, this.#o.signal)
    } catch (error) {
      this.active--
      if (!delivery.settled) this.#onFailure(delivery, error)
      this.#o.pump()
      return
    }
    this.active--
    if (!delivery.settled) this.#onResponse(delivery, response)
    this.#o.pump()
  }

  #onResponse (delivery: Delivery, response: HttpResponse): void {
    const name = this.#o.name
    let verdict: Verdict
    try {
      verdict = this.#interpret(response, delivery.request)
    } catch (error) {
      this.#settle(delivery, 0, 'failed')
      this.#o.log.error('adapter', {
        statusCode: response.statusCode,
        path: redactPath(delivery.request.path),
        error: redactText(errorText(error), deliverySecrets(delivery))
      }, `${name}: reading a response failed, events dropped`)
      return
    }
    const events = delivery.events
    switch (verdict?.outcome) {
      case 'delivered': {
        const destination = clampCount(verdict.destinationDropped, events)
        const rejected = clampCount(verdict.rejected, events - destination)
        if (rejected > 0) this.#o.ledger.settle(0, 'rejected', rejected)
        this.#settle(delivery, events - destination - rejected, 'destination', destination)
        if (destination > 0 || rejected > 0) {
          this.#o.log.warn(destination > 0 ? 'destination' : 'rejected', this.#fields(delivery, {
            statusCode: response.statusCode, destinationDropped: destination, rejected, detail: verdict.detail
          }), `${name}: the destination discarded or refused events`)
        }
        return
      }
      case 'retry':
        this.#retryOrFail(delivery, verdict.retryAfterMs, { statusCode: response.statusCode, detail: verdict.detail })
        return
      case 'rejected':
        this.#settle(delivery, 0, 'rejected')
        this.#o.log.warn('rejected', this.#fields(delivery, { statusCode: response.statusCode, detail: verdict.detail }),
          `${name}: the destination rejected a request, events dropped`)
        return
      default:
        this.#settle(delivery, 0, 'failed')
        this.#o.log.error('adapter', this.#fields(delivery, { statusCode: response.statusCode }),
          `${name}: interpret returned no verdict, events dropped`)
    }
  }

  #onFailure (delivery: Delivery, error: unknown): void {
    const failure = error instanceof TransportError ? error : classifyError(error, { deadline: false, aborted: false })
    if (failure.kind === 'invalid' || failure.kind === 'aborted') {
      // undici refused the request itself (retrying cannot help), or someone else aborted it.
      this.#settle(delivery, 0, 'failed')
      this.#o.log.error('failed', this.#fields(delivery, { code: failure.code, detail: failure.message }),
        `${this.#o.name}: request could not be sent, events dropped`)
      return
    }
    this.#retryOrFail(delivery, undefined, { code: failure.code, detail: failure.message })
  }

  #retryOrFail (delivery: Delivery, retryAfterMs: number | undefined, fields: Record<string, unknown>): void {
    const s = this.#o.settings
    if (delivery.attempt >= s.maxAttempts) {
      this.#settle(delivery, 0, 'failed')
      this.#o.log.error('failed', this.#fields(delivery, fields), `${this.#o.name}: delivery failed after ${delivery.attempt} attempts, events dropped`)
      return
    }
    if (!delivery.troubled) {
      delivery.troubled = true
      this.troubled++
    }
    const delay = backoffDelay(s, delivery.attempt, retryAfterMs)
    this.#o.log.warn('retry', this.#fields(delivery, { ...fields, retryInMs: delay }), `${this.#o.name}: delivery attempt failed, will retry`)
    delivery.timer = setTimeout(this.#onRetryTimer, delay, delivery)
    if (!this.#holding) delivery.timer.unref()
  }

  readonly #onRetryTimer = (delivery: Delivery): void => {
    delivery.timer = undefined
    if (!delivery.settled && !this.ended) this.#attempt(delivery)
  }

  /** Ends a request: `delivered` events delivered, the rest of its events dropped for `reason`. */
  #settle (delivery: Delivery, delivered: number, reason: DropReason, dropped = delivery.events - delivered): void {
    delivery.settled = true
    if (delivery.timer !== undefined) clearTimeout(delivery.timer)
    if (delivery.troubled) this.troubled--
    this.#live.delete(delivery)
    this.#o.ledger.settle(delivered, reason, dropped)
    const batch = delivery.batch
    if (--batch.open === 0) this.#o.batchDone(batch)
  }

  /** At the shutdown deadline (the ledger counts the events): every request ends where it stands. */
  abandon (): void {
    for (const delivery of this.#live) {
      delivery.settled = true
      if (delivery.timer !== undefined) clearTimeout(delivery.timer)
    }
    this.#live.clear()
    this.#pending.length = 0
    this.troubled = 0
  }

  /**
   * Retry timers are unref'd so analytics never keeps a process alive, except while a flush or
   * close is awaited (see the engine's hold): then a retry wait may be all the event loop holds.
   */
  hold (holding: boolean): void {
    this.#holding = holding
    for (const delivery of this.#live) {
      if (delivery.timer === undefined) continue
      if (holding) delivery.timer.ref()
      else delivery.timer.unref()
    }
  }

  #fields (delivery: Delivery, extra: Record<string, unknown>): Record<string, unknown> {
    return logFields(delivery, this.#o.settings.maxAttempts, extra)
  }
}
