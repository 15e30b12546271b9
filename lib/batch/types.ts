import type { HttpResponse, OutgoingRequest } from '../http/types.js'

// The HTTP shapes belong to lib/http and the options to settings.ts; re-exported so an adapter
// finds every type it needs in one place (`fastify-analytics/batch`).
export type { HttpResponse, OutgoingRequest } from '../http/types.js'
export type { BatchingOptions, CollectorDefaults, RetryOptions } from './settings.js'

/** What a response means for the events of the request. */
export type Verdict =
  | {
    outcome: 'delivered'
    /** Events the destination accepted but discarded (counted `destination`). */
    destinationDropped?: number
    /** Events the destination refused inside a 2xx (GA4 debug validation; counted `rejected`). */
    rejected?: number
    /** Shown in the (rate-limited) log when something was dropped or rejected. */
    detail?: string
  }
  | { outcome: 'retry', retryAfterMs?: number, detail: string }
  | { outcome: 'rejected', detail: string }

/**
 * Sends one attempt of a request and answers like an HTTP server would. The engine's default is an
 * undici pool on `origin`; warehouse collectors bring a database client instead. `send` resolves
 * with a response for the adapter's `interpret`, or rejects with a `TransportError` whose `kind`
 * says whether another attempt may help (`network`, `timeout`) or not (`invalid`, `aborted`).
 */
export interface DeliveryTransport {
  send (request: OutgoingRequest, signal: AbortSignal): Promise<HttpResponse>
  /** Releases connections; waits for attempts in progress unless `signal` fires. */
  close (signal: AbortSignal): Promise<void>
}

/** What a collector's encoder made of one batch. */
export interface PreparedBatch {
  requests: OutgoingRequest[]
  /** Items that cannot be sent at all (counted `invalid`). */
  invalid: number
}

/** The collector-specific half of delivery: encoding batches and reading responses. */
export interface DeliveryAdapter<T> {
  /**
   * Turns a batch of queued items into requests. Runs off the request path. May return a promise
   * (one lookup per batch, e.g. GA4's shared session store): it must settle, since the batch holds a
   * concurrency slot until it does; a rejection counts the batch `failed`.
   */
  prepare (items: T[]): PreparedBatch | Promise<PreparedBatch>
  /**
   * Called just before each attempt of a request, the first included (`attempt` counts from 1).
   * It may set header values that must be fresh when sent (a signature over the send time);
   * it must not change the path or body, which identify the request across retries. Default: none.
   */
  beforeAttempt? (request: OutgoingRequest, attempt: number): void
  /** Reads a response. Default: `defaultInterpret`. */
  interpret? (response: HttpResponse, request: OutgoingRequest): Verdict
}
