// The modules themselves, not the http index: a collector that sends nothing over HTTP (stdout) does
// not load the transport at start.
import { redactPath, redactText, secretValues } from '../http/redact.js'
import type { OutgoingRequest } from '../http/types.js'
import { noop } from '../util.js'
import type { Settings } from './settings.js'
import type { PreparedBatch } from './types.js'

/** A run of items taken from the queue together; flush() waits for batches by their first item. */
export interface Batch {
  /** Sequence number of the batch's first item (items are numbered as they enter the queue). */
  firstSeq: number
  /** Requests of this batch not yet settled (1 while an asynchronous prepare runs). */
  open: number
  /** Counted `shutdown` at the close deadline while it was being prepared. */
  abandoned: boolean
}

/** One OutgoingRequest through its attempts. The same `request` object is sent on every attempt. */
export class Delivery {
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

/** A count an adapter reported, made safe: a non-negative integer no larger than `max`. */
export function clampCount (value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0
  return Math.min(Math.floor(value), max)
}

/** Whether an adapter's output is a request the transport can send (anything else is counted, not sent). */
export function isOutgoingRequest (value: unknown): value is OutgoingRequest {
  if (typeof value !== 'object' || value === null) return false
  const { path, headers, body } = value as Partial<OutgoingRequest>
  return typeof path === 'string' &&
    (typeof headers === 'object' && headers !== null) &&
    (typeof body === 'string' || body instanceof Uint8Array)
}

/** An adapter's prepare() that answered with a promise (GA4 with a shared session store). */
export function isPromiseLike (value: unknown): value is PromiseLike<PreparedBatch> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function'
}

/** Full jitter (random in [0, min(max, base·2^(attempt-1))]), but never sooner than Retry-After allows. */
export function backoffDelay (settings: Pick<Settings, 'baseDelayMs' | 'maxDelayMs'>, attempt: number, retryAfterMs: number | undefined): number {
  const { baseDelayMs, maxDelayMs } = settings
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
  let delay = Math.floor(Math.random() * (ceiling + 1))
  if (typeof retryAfterMs === 'number' && retryAfterMs > delay) delay = retryAfterMs
  return Math.min(delay, maxDelayMs)
}

/** The secret values a request carries (its query's and headers'), to redact from anything logged about it. */
export function deliverySecrets (delivery: Delivery): string[] {
  return secretValues(delivery.request.path, delivery.request.headers)
}

/** Log fields for a request: never its raw path, headers or body. */
export function logFields (delivery: Delivery, maxAttempts: number, extra: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    path: redactPath(delivery.request.path),
    attempt: delivery.attempt,
    maxAttempts,
    events: delivery.events
  }
  const secrets = deliverySecrets(delivery)
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) continue
    fields[key] = typeof value === 'string' ? redactText(value, secrets) : value
  }
  return fields
}

/** Adds an abort listener that runs at most once; returns its remover. Tolerates a missing signal. */
export function onAbort (signal: AbortSignal | undefined, listener: () => void): () => void {
  if (signal === undefined || signal === null || typeof signal.addEventListener !== 'function') return noop
  signal.addEventListener('abort', listener, { once: true })
  return () => signal.removeEventListener('abort', listener)
}
