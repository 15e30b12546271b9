import { createRequire } from 'node:module'
import type { Dispatcher, Pool } from 'undici'
import { libPath } from '../location.js'
import { noop } from '../util.js'
import { classifyError, TransportError } from './classify.js'
import { secretValues } from './redact.js'
import type { HttpResponse, OutgoingRequest } from './types.js'

/** Response bytes kept for the collector to read; the rest is read and discarded. */
export const MAX_RESPONSE_BODY_BYTES = 64 * 1024
/**
 * Beyond this many response bytes the socket is destroyed rather than drained: draining a huge
 * body to save one TCP handshake is a bad trade, and the attempt deadline bounds the time anyway.
 */
export const MAX_DRAIN_BYTES = 1024 * 1024
/**
 * Below Node's default server keep-alive (5 s) so undici retires an idle socket before the server
 * closes it under a request (undici also honours a `Keep-Alive: timeout=` hint).
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 4000

export interface TransportOptions {
  /** `scheme://host[:port]`. */
  origin: string
  /** Pool connections (the engine's `concurrency`). Ignored with an injected dispatcher. */
  connections: number
  /** Connect, headers and body timeouts, and the deadline of a whole attempt. */
  timeoutMs: number
  keepAliveTimeoutMs?: number
  /** Send through this dispatcher (a ProxyAgent, say) instead of an own Pool. Never closed here. */
  dispatcher?: Dispatcher
}

/**
 * One attempt at a time, over one keep-alive pool per collector. `send` resolves with the response
 * (body read as text, at most 64 KiB kept) or rejects with a `TransportError`; it never retries:
 * the delivery engine owns the retry loop.
 */
// undici takes ~80 ms to load, most of the plugin's cold start: it is loaded when the first attempt
// over an own pool is made (an HTTP collector's first batch), never by an app whose collectors send
// nothing over HTTP, and after the app listens for one whose collectors do. undici is CommonJS, so a require made for this file loads it the same way from
// both builds.
let UndiciPool: typeof Pool | undefined
function poolClass (): typeof Pool {
  UndiciPool ??= (createRequire(libPath('http/transport.js'))('undici') as typeof import('undici')).Pool
  return UndiciPool
}

export class Transport {
  readonly origin: string
  readonly #timeoutMs: number
  readonly #options: TransportOptions
  /** The injected dispatcher, or the own pool once the first attempt made it. */
  #dispatcher: Dispatcher | undefined
  readonly #owned: boolean
  /** Attempts not settled yet, and the caller signals already listened to. */
  readonly #live = new Set<Attempt>()
  readonly #watched = new WeakSet<AbortSignal>()

  constructor (options: TransportOptions) {
    this.origin = options.origin
    this.#timeoutMs = options.timeoutMs
    this.#options = options
    this.#dispatcher = options.dispatcher
    this.#owned = options.dispatcher === undefined
  }

  /** The pool is made at the first attempt: until then neither undici nor a socket is needed. */
  #pool (): Dispatcher {
    if (this.#dispatcher !== undefined) return this.#dispatcher
    const options = this.#options
    // undici's defaults for headers and body timeouts are 300 s: far too long to hold a slot.
    this.#dispatcher = new (poolClass())(options.origin, {
      connections: options.connections,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs
    })
    return this.#dispatcher
  }

  /**
   * Sends one attempt of `request` (POST). The whole attempt, body included, is bounded by
   * `timeoutMs`: undici's headers and body timeouts reset on every byte, so a server dripping its
   * response one byte at a time would otherwise hold the connection for ever.
   *
   * Through `dispatch` with a handler, not `request()`: a request() response is a Readable stream,
   * read here through an async iterator, with an AbortController per attempt, which cost more CPU
   * than the HTTP exchange itself for a one-event request (Plausible; bench/delivery-floor.js).
   */
  send (request: OutgoingRequest, signal?: AbortSignal): Promise<HttpResponse> {
    // Before the deadline starts: loading undici at the first attempt must not eat into its time.
    const dispatcher = this.#pool()
    return new Promise<HttpResponse>((resolve, reject) => {
      const attempt = new Attempt(request, signal, this.#live, resolve, reject)
      if (signal !== undefined && signal !== null) {
        if (signal.aborted) {
          attempt.fail(new TransportError('aborted', 'ABORT_ERR', 'request aborted'), false)
          return
        }
        this.#watch(signal)
      }
      attempt.timer = setTimeout(onDeadline, this.#timeoutMs, attempt)
      attempt.timer.unref()
      this.#live.add(attempt)
      const options: Dispatcher.DispatchOptions = {
        path: request.path,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs
      }
      if (!this.#owned) options.origin = this.origin
      try {
        dispatcher.dispatch(options, attempt)
      } catch (error) {
        attempt.onResponseError(undefined, error as Error)
      }
    })
  }

  /**
   * One listener per caller signal (the engine passes its lifetime signal to every attempt), not
   * one per attempt: when it fires, the attempts sent with it are aborted.
   */
  #watch (signal: AbortSignal): void {
    if (this.#watched.has(signal)) return
    this.#watched.add(signal)
    signal.addEventListener('abort', () => {
      for (const attempt of [...this.#live]) {
        if (attempt.signal === signal) attempt.fail(new TransportError('aborted', 'ABORT_ERR', 'request aborted'), true)
      }
    }, { once: true })
  }

  /**
   * Closes the own pool (an injected dispatcher is left alone: its owner may share it). Waits for
   * requests in progress unless `signal` fires, then destroys the pool's sockets.
   */
  async close (signal?: AbortSignal): Promise<void> {
    const pool = this.#dispatcher
    if (!this.#owned || pool === undefined) return
    if (signal?.aborted === true) {
      await pool.destroy()
      return
    }
    const onAbort = (): void => { pool.destroy().catch(noop) }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await pool.close()
    } catch {
      // close() rejects when destroy() overtook it: the pool is gone either way.
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }
}

function onDeadline (attempt: Attempt): void {
  attempt.timer = undefined
  attempt.fail(new TransportError('timeout', 'ATTEMPT_TIMEOUT', 'attempt deadline reached'), true)
}

/**
 * One attempt, as undici's dispatch handler: keeps the first 64 KiB of the response body as text
 * and drains the rest so the socket goes back to the pool, up to `MAX_DRAIN_BYTES`; past that, the
 * request is aborted (its socket destroyed) and the attempt answers with what it kept. Settles once.
 */
class Attempt implements Dispatcher.DispatchHandler {
  readonly signal: AbortSignal | undefined
  timer: NodeJS.Timeout | undefined = undefined
  readonly #request: OutgoingRequest
  readonly #live: Set<Attempt>
  readonly #resolve: (response: HttpResponse) => void
  readonly #reject: (error: TransportError) => void
  #controller: Dispatcher.DispatchController | undefined = undefined
  #settled = false
  /** Why the attempt ended before undici started it: the request is aborted as soon as it starts. */
  #reason: Error | undefined = undefined
  #statusCode = 0
  #headers: Record<string, string | string[] | undefined> = {}
  #kept: Buffer[] = []
  #keptBytes = 0
  #total = 0

  constructor (request: OutgoingRequest, signal: AbortSignal | undefined, live: Set<Attempt>, resolve: (response: HttpResponse) => void, reject: (error: TransportError) => void) {
    this.#request = request
    this.signal = signal
    this.#live = live
    this.#resolve = resolve
    this.#reject = reject
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#reason !== undefined) controller.abort(this.#reason)
  }

  onResponseStart (_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.#statusCode = statusCode
    this.#headers = headers
  }

  onResponseData (controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return
    this.#total += chunk.length
    if (this.#keptBytes < MAX_RESPONSE_BODY_BYTES) {
      const part = chunk.length <= MAX_RESPONSE_BODY_BYTES - this.#keptBytes ? chunk : chunk.subarray(0, MAX_RESPONSE_BODY_BYTES - this.#keptBytes)
      this.#kept.push(part)
      this.#keptBytes += part.length
    }
    if (this.#total > MAX_DRAIN_BYTES) {
      // Not worth draining: answer with what was kept, and let the socket go.
      this.#end()
      controller.abort(new TransportError('aborted', 'ABORT_ERR', 'response body too large to drain'))
    }
  }

  onResponseEnd (): void {
    if (!this.#settled) this.#end()
  }

  onResponseError (_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (!this.#settled) this.fail(error, false)
  }

  /** Ends the attempt with a failure; `abort` also aborts the request in undici (now, or once started). */
  fail (error: unknown, abort: boolean): void {
    if (this.#settled) return
    this.#finish()
    const signal = this.signal
    this.#reject(classifyError(error, {
      deadline: false,
      aborted: signal?.aborted === true,
      secrets: secretValues(this.#request.path, this.#request.headers)
    }))
    if (!abort) return
    const reason = error instanceof Error ? error : new Error(String(error))
    if (this.#controller !== undefined) this.#controller.abort(reason)
    else this.#reason = reason
  }

  #end (): void {
    this.#finish()
    const kept = this.#kept
    const body = kept.length === 0 ? '' : kept.length === 1 ? kept[0].toString('utf8') : Buffer.concat(kept).toString('utf8')
    this.#resolve({ statusCode: this.#statusCode, headers: this.#headers, body })
  }

  #finish (): void {
    this.#settled = true
    this.#live.delete(this)
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}
