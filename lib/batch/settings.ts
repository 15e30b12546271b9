import type { Dispatcher } from 'undici'
import { FST_ANALYTICS_INVALID_OPTION } from '../errors.js'
import { parseHttpUrl } from '../http/url.js'
import { MAX_TIMER_MS } from '../util.js'
import type { DeliveryAdapter, DeliveryTransport } from './types.js'

export const DEFAULT_MAX_QUEUE_SIZE = 10_000
/**
 * Bytes (estimated: see `itemBytes`) of the items waiting in one collector's queue. 10 000 events
 * of a typical 0.5–2 KiB fit with room to spare, so under normal traffic the event bound binds first;
 * 1 MB property values or user ids hit this one after 32 events instead of holding 10 GB. Cost: at
 * most 32 MiB of one-byte strings (64 MiB if every queued string needs two bytes per unit) per collector.
 */
export const DEFAULT_MAX_QUEUE_BYTES = 32 * 1024 * 1024
/**
 * Bytes (estimated) of the items handed to the encoder as one batch. Far below V8's longest string
 * (2^29 − 24 UTF-16 units on 64-bit Node 20), so a warehouse batch joined into one COPY or INSERT
 * body can always be built; 10 000 rows of 1 KiB are not cut by it. Memory in flight is at most
 * `concurrency` × this, plus the encoded requests.
 */
export const DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024
export const DEFAULT_TIMEOUT_MS = 10_000
export const DEFAULT_RETRY_BASE_DELAY_MS = 500
export const DEFAULT_RETRY_MAX_DELAY_MS = 30_000
export const DEFAULT_RETRY_MAX_ATTEMPTS = 5

/** Retry with exponential backoff and full jitter. */
export interface RetryOptions {
  /** First backoff ceiling, in ms. Default {@link DEFAULT_RETRY_BASE_DELAY_MS}. */
  baseDelayMs?: number
  /** Largest wait, also the cap on a server's Retry-After, in ms. Default {@link DEFAULT_RETRY_MAX_DELAY_MS}. */
  maxDelayMs?: number
  /** Attempts per request, the first included. Default {@link DEFAULT_RETRY_MAX_ATTEMPTS}. */
  maxAttempts?: number
}

/** Options every HTTP collector accepts (`...batching` in the collectors' option lists). */
export interface BatchingOptions {
  /** Events waiting to be sent; when full, new events are dropped and counted (`queueFull`). Default {@link DEFAULT_MAX_QUEUE_SIZE}. */
  maxQueueSize?: number
  /**
   * Bytes (estimated: a string counts its length) of the events waiting to be sent; an event that
   * would take the queue past it is dropped and counted (`queueFull`). Default {@link DEFAULT_MAX_QUEUE_BYTES}.
   */
  maxQueueBytes?: number
  /** Events per batch handed to the collector's encoder. Default: per collector. */
  maxBatchSize?: number
  /**
   * Bytes (estimated) per batch handed to the encoder: a batch ends before the event that would pass
   * it (an event larger than this is sent in a batch of its own). Default {@link DEFAULT_MAX_BATCH_BYTES}.
   */
  maxBatchBytes?: number
  /** A partial batch is sent after this long. Default: per collector. */
  flushIntervalMs?: number
  /** HTTP requests in flight at once (and pool connections). Default: per collector. */
  concurrency?: number
  /** Per-attempt timeout (connect, headers, body), in ms. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number
  retry?: RetryOptions
  /** An undici dispatcher to send through (a ProxyAgent, say). Default: a keep-alive Pool per collector. */
  dispatcher?: Dispatcher
}

/** The defaults a collector sets for the batching options that have none of their own. */
export interface CollectorDefaults {
  maxBatchSize: number
  flushIntervalMs: number
  concurrency: number
}

export interface DeliveryEngineOptions<T> extends BatchingOptions {
  /** The collector's name, for logs and error messages. */
  name: string
  /** `scheme://host[:port]` only, e.g. `https://www.google-analytics.com`. Unused (and unchecked) with `transport`. */
  origin: string
  adapter: DeliveryAdapter<T>
  /** Sends attempts some other way than over HTTP (a database client). Default: an undici pool on `origin`. */
  transport?: DeliveryTransport
  /** The collector's own defaults for what the user did not set. */
  defaults: CollectorDefaults
  /**
   * The size of a queued item in bytes, for `maxQueueBytes` and `maxBatchBytes`: cheap (it runs on
   * the request path) and an estimate of what the item holds in memory. Default {@link defaultItemBytes}.
   */
  itemBytes?: (item: T) => number
}

/**
 * The default size of an item: a string's length (V8 keeps most strings at one byte per UTF-16
 * unit, two when they need it; UTF-8 on the wire takes 1–3, so this is a fair estimate of memory,
 * exact for what V8's string limit counts, and free to compute), a byte array's length, and 0 for
 * anything else: an engine of other items needs `itemBytes` for the byte bounds to apply.
 */
export function defaultItemBytes (item: unknown): number {
  if (typeof item === 'string') return item.length
  if (item instanceof Uint8Array) return item.byteLength
  return 0
}

/** An item's size from the collector's estimate, made safe: a finite non-negative number. */
export function safeItemBytes<T> (itemBytes: (item: T) => number, item: T): number {
  let bytes: number
  try {
    bytes = itemBytes(item)
  } catch {
    return 0
  }
  return typeof bytes === 'number' && bytes > 0 && Number.isFinite(bytes) ? bytes : 0
}

/** Every option after validation and defaults. */
export interface Settings {
  name: string
  origin: string
  maxQueueSize: number
  maxQueueBytes: number
  maxBatchSize: number
  maxBatchBytes: number
  flushIntervalMs: number
  concurrency: number
  timeoutMs: number
  baseDelayMs: number
  maxDelayMs: number
  maxAttempts: number
}

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

/** Validates and completes the options; pure, so a bad option fails before any timer or socket exists. */
export function resolveSettings<T> (options: DeliveryEngineOptions<T>): Settings {
  if (typeof options !== 'object' || options === null) throw invalid('delivery engine options must be an object')
  const name = options.name
  if (typeof name !== 'string' || name === '') throw invalid('delivery engine name must be a non-empty string')
  const where = `${name}: `
  const transport = options.transport
  if (transport !== undefined && (typeof transport !== 'object' || transport === null ||
    typeof transport.send !== 'function' || typeof transport.close !== 'function')) {
    throw invalid(`${where}transport must be an object with send(request, signal) and close(signal) methods`)
  }
  const origin = transport === undefined
    ? parseHttpUrl(options.origin, 'origin', 'origin', (message) => invalid(where + message)).origin
    : String(options.origin ?? '')
  const adapter = options.adapter
  if (typeof adapter !== 'object' || adapter === null || typeof adapter.prepare !== 'function') {
    throw invalid(`${where}adapter must be an object with a prepare(items) method`)
  }
  if (options.itemBytes !== undefined && typeof options.itemBytes !== 'function') {
    throw invalid(`${where}itemBytes must be a function`)
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
    maxQueueBytes: integer('maxQueueBytes', options.maxQueueBytes, 1, DEFAULT_MAX_QUEUE_BYTES, where),
    maxBatchSize: integer('maxBatchSize', options.maxBatchSize, 1, integer('defaults.maxBatchSize', defaults.maxBatchSize, 1, undefined, where), where),
    maxBatchBytes: integer('maxBatchBytes', options.maxBatchBytes, 1, DEFAULT_MAX_BATCH_BYTES, where),
    flushIntervalMs: integer('flushIntervalMs', options.flushIntervalMs, 1, integer('defaults.flushIntervalMs', defaults.flushIntervalMs, 1, undefined, where), where),
    concurrency: integer('concurrency', options.concurrency, 1, integer('defaults.concurrency', defaults.concurrency, 1, undefined, where), where),
    timeoutMs: integer('timeoutMs', options.timeoutMs, 1, DEFAULT_TIMEOUT_MS, where),
    baseDelayMs,
    maxDelayMs,
    maxAttempts: integer('retry.maxAttempts', retry.maxAttempts, 1, DEFAULT_RETRY_MAX_ATTEMPTS, where)
  }
}
