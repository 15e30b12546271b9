import type { Dispatcher } from 'undici'

/** Retry with exponential backoff and full jitter. */
export interface RetryOptions {
  /** First backoff ceiling. Default 500 ms. */
  baseDelayMs?: number
  /** Largest wait, also the cap on a server's Retry-After. Default 30 000 ms. */
  maxDelayMs?: number
  /** Attempts per request, the first included. Default 5. */
  maxAttempts?: number
}

/** Options every HTTP collector accepts (`...batching` in the collectors' option lists). */
export interface BatchingOptions {
  /** Events waiting to be sent; when full, new events are dropped and counted (`queueFull`). Default 10 000. */
  maxQueueSize?: number
  /** Events per batch handed to the collector's encoder. Default: per collector. */
  maxBatchSize?: number
  /** A partial batch is sent after this long. Default: per collector. */
  flushIntervalMs?: number
  /** HTTP requests in flight at once (and pool connections). Default: per collector. */
  concurrency?: number
  /** Per-attempt timeout (connect, headers, body). Default 10 000 ms. */
  timeoutMs?: number
  retry?: RetryOptions
  /** An undici dispatcher to send through (a ProxyAgent, say). Default: a keep-alive Pool per collector. */
  dispatcher?: Dispatcher
}

/** One HTTP request, built once and re-sent byte for byte on every retry. */
export interface OutgoingRequest {
  /** Path and query on the collector's origin. May hold a secret: never logged as is. */
  path: string
  headers: Record<string, string>
  body: string | Uint8Array
  /** How many accepted events this request carries (for accounting). */
  events: number
}

/** A response as collectors see it: the body is read up to 64 KiB, the rest is discarded. */
export interface HttpResponse {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

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
  /** Turns a batch of queued items into requests. Runs off the request path. */
  prepare (items: T[]): PreparedBatch
  /** Reads a response. Default: 2xx delivered; 408/429/500/502/503/504 retried (Retry-After honoured); other 4xx/5xx rejected. */
  interpret? (response: HttpResponse, request: OutgoingRequest): Verdict
}
