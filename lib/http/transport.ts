import { createRequire } from 'node:module'
import type { Dispatcher, Pool } from 'undici'
import { libPath } from '../worker/location.js'
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
   */
  async send (request: OutgoingRequest, signal?: AbortSignal): Promise<HttpResponse> {
    // Before the deadline starts: loading undici at the first attempt must not eat into its time.
    const dispatcher = this.#pool()
    const controller = new AbortController()
    let deadline = false
    const timer = setTimeout(() => {
      deadline = true
      controller.abort(new TransportError('timeout', 'ATTEMPT_TIMEOUT', 'attempt deadline reached'))
    }, this.#timeoutMs)
    timer.unref()
    const onAbort = (): void => controller.abort(new TransportError('aborted', 'ABORT_ERR', 'request aborted'))
    if (signal !== undefined) {
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    }
    try {
      const options: Dispatcher.RequestOptions = {
        path: request.path,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs
      }
      if (!this.#owned) options.origin = this.origin
      const response = await dispatcher.request(options)
      const body = await readBody(response.body)
      return { statusCode: response.statusCode, headers: response.headers, body }
    } catch (error) {
      throw classifyError(error, {
        deadline,
        aborted: signal?.aborted === true,
        secrets: secretValues(request.path, request.headers)
      })
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
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

/**
 * Reads a response body as text, keeping the first 64 KiB. The rest is drained so the socket goes
 * back to the pool, up to `MAX_DRAIN_BYTES`; past that, leaving the loop destroys the stream.
 */
async function readBody (body: AsyncIterable<Uint8Array>): Promise<string> {
  const kept: Buffer[] = []
  let keptBytes = 0
  let total = 0
  for await (const chunk of body) {
    total += chunk.length
    if (keptBytes < MAX_RESPONSE_BODY_BYTES) {
      const part = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, MAX_RESPONSE_BODY_BYTES - keptBytes))
      kept.push(part)
      keptBytes += part.length
    }
    if (total > MAX_DRAIN_BYTES) break
  }
  return Buffer.concat(kept).toString('utf8')
}
