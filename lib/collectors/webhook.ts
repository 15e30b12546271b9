import { createHmac, createSecretKey, randomUUID, type KeyObject } from 'node:crypto'
import type { AnalyticsCollector, CollectorContext, DeliveryReport } from '../collector.js'
import { eventToJSON, type AnalyticsEvent, type AnalyticsEventJSON } from '../event.js'
import { FST_ANALYTICS_INVALID_OPTION } from '../errors.js'
import type { BatchingOptions, DeliveryAdapter, OutgoingRequest, PreparedBatch } from '../batch/types.js'
import { DeliveryEngine } from '../batch/engine.js'
import { RateLimitedLog, silentLogger } from '../log.js'
import { BATCHING_OPTION_KEYS, pickBatchingOptions } from './options.js'

export interface WebhookCollectorOptions extends BatchingOptions {
  /** Where batches are POSTed: an absolute http(s) URL. */
  url: string
  /** Extra request headers (an `authorization`, say). Hop-by-hop, framing and signing headers are refused. */
  headers?: Record<string, string>
  /** Standard Webhooks signing secret: `whsec_<base64>` or plain base64 of 24 to 64 random bytes. */
  secret?: string
  /** Name in logs and `stats()`. Default `'webhook'`. */
  name?: string
  /** Largest request body; a batch is split to stay under it. Default 1 MiB. */
  maxBodyBytes?: number
}

/** The body of every webhook request (schema/webhook-body.schema.json). */
export interface WebhookBody {
  /** A random UUID per request; also the `webhook-id` header. The same on every retry. */
  id: string
  schema: 1
  /** When the request was first sent (ISO 8601). */
  sentAt: string
  events: AnalyticsEventJSON[]
}

export const DEFAULT_WEBHOOK_NAME = 'webhook'
// 500 events of ~0.7 kB make a ~350 kB body: few requests per event (150 000 events/s is ~300
// requests/s on one connection), yet far below common receivers' body limits.
export const DEFAULT_WEBHOOK_BATCH_SIZE = 500
// A quiet app's events still arrive within a second, without a request per event.
export const DEFAULT_WEBHOOK_FLUSH_INTERVAL_MS = 1000
// One request at a time keeps batches in order and never floods a small receiver; batching, not
// parallel requests, is what carries the throughput.
export const DEFAULT_WEBHOOK_CONCURRENCY = 1
// Standard Webhooks recommends giving receivers 15–30 s. 15 s keeps the worst case of 5 attempts
// (5 × 15 s + 4 × 30 s backoff) inside the 5-minute timestamp tolerance of its verifiers, since a
// retry re-sends the first attempt's signed timestamp.
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000
// Fastify's default bodyLimit: a body this size passes a receiver that kept its defaults.
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
const MIN_BODY_BYTES = 1024

// `{"id":"<36>","schema":1,"sentAt":"<24>","events":[` … `]}`
const ENVELOPE_BYTES = 104

const OWN_OPTION_KEYS = new Set<string>(['url', 'headers', 'secret', 'name', 'maxBodyBytes', ...BATCHING_OPTION_KEYS])

// RFC 9110 §7.6.1 hop-by-hop headers, the framing undici computes itself, the body's fixed type,
// and the Standard Webhooks headers this collector signs.
const FORBIDDEN_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect', 'content-type',
  'webhook-id', 'webhook-timestamp', 'webhook-signature'
])
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// Printable ASCII and Latin-1 only: a control character (CR/LF above all) could inject headers.
const BAD_HEADER_VALUE = /[^\x20-\x7e\x80-\xff]/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const SECRET_PREFIX = 'whsec_'
// Standard Webhooks: symmetric secrets are random, "at least 24 bytes (192 bits, 512 maximum)".
const MIN_SECRET_BYTES = 24
const MAX_SECRET_BYTES = 64

function invalidOption (message: string): Error {
  return new FST_ANALYTICS_INVALID_OPTION(`webhookCollector: ${message}`)
}

/** Decodes a Standard Webhooks secret. Error messages never quote it. */
export function decodeWebhookSecret (secret: unknown): Buffer {
  if (typeof secret !== 'string') throw invalidOption('secret must be a string ("whsec_…" or base64)')
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret
  if (encoded === '' || !BASE64.test(encoded)) throw invalidOption('secret must be "whsec_" followed by base64, or base64')
  const key = Buffer.from(encoded, 'base64')
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw invalidOption(`secret must decode to ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} random bytes, it decodes to ${key.length}`)
  }
  return key
}

/** Validates custom headers; names come back lowercase. Error messages name the header, never its value. */
export function normalizeWebhookHeaders (headers: unknown): Record<string, string> {
  if (headers === undefined) return {}
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw invalidOption('headers must be an object of header names to string values')
  }
  const normalized: Record<string, string> = Object.create(null)
  for (const name of Object.keys(headers)) {
    const value = (headers as Record<string, unknown>)[name]
    if (!HEADER_NAME.test(name)) throw invalidOption(`header name ${JSON.stringify(name.slice(0, 64))} is not a valid HTTP token`)
    const lower = name.toLowerCase()
    if (FORBIDDEN_HEADERS.has(lower)) throw invalidOption(`header "${name}" is set by the collector or the connection and cannot be overridden`)
    if (lower in normalized) throw invalidOption(`header "${name}" is given twice (header names are case-insensitive)`)
    if (typeof value !== 'string') throw invalidOption(`header "${name}" must have a string value`)
    if (BAD_HEADER_VALUE.test(value)) throw invalidOption(`header "${name}" has a control character (CR, LF, …) or a character outside Latin-1 in its value`)
    normalized[lower] = value
  }
  return normalized
}

interface NormalizedWebhookOptions {
  name: string
  origin: string
  path: string
  headers: Record<string, string>
  key: KeyObject | undefined
  maxBodyBytes: number
  batching: BatchingOptions
}

/** Checks and normalises the options once, at construction. */
export function normalizeWebhookOptions (options: WebhookCollectorOptions): NormalizedWebhookOptions {
  if (options === null || typeof options !== 'object') throw invalidOption('options must be an object with a url')
  for (const key of Object.keys(options)) {
    if (!OWN_OPTION_KEYS.has(key)) throw invalidOption(`unknown option "${key}"`)
  }
  const name = options.name ?? DEFAULT_WEBHOOK_NAME
  if (typeof name !== 'string' || name === '') throw invalidOption('name must be a non-empty string')

  if (typeof options.url !== 'string' || options.url === '') throw invalidOption('url is required: an absolute http(s) URL')
  let parsed: URL
  try {
    parsed = new URL(options.url)
  } catch {
    throw invalidOption('url is not an absolute URL')
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw invalidOption('url must be http or https')
  if (parsed.username !== '' || parsed.password !== '') {
    throw invalidOption('url must not carry credentials: pass them as headers (e.g. { authorization: … })')
  }
  if (parsed.hash !== '') throw invalidOption('url must not have a fragment (it is never sent)')

  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < MIN_BODY_BYTES) {
    throw invalidOption(`maxBodyBytes must be an integer ≥ ${MIN_BODY_BYTES}`)
  }

  const headers = normalizeWebhookHeaders(options.headers)
  const key = options.secret === undefined ? undefined : createSecretKey(decodeWebhookSecret(options.secret))
  const batching = pickBatchingOptions(options)
  batching.timeoutMs ??= DEFAULT_WEBHOOK_TIMEOUT_MS

  return { name, origin: parsed.origin, path: parsed.pathname + parsed.search, headers, key, maxBodyBytes, batching }
}

/** `v1,<base64 HMAC-SHA256(key, "${id}.${timestamp}.${body}")>`, the Standard Webhooks symmetric signature. */
export function signWebhook (key: KeyObject, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`
}

/** Encodes batches of pre-serialised events (one JSON string each) into signed requests. */
class WebhookAdapter implements DeliveryAdapter<string> {
  readonly #path: string
  readonly #headers: Record<string, string>
  readonly #key: KeyObject | undefined
  readonly #maxBodyBytes: number

  constructor (path: string, headers: Record<string, string>, key: KeyObject | undefined, maxBodyBytes: number) {
    this.#path = path
    this.#headers = { 'content-type': 'application/json', 'user-agent': 'fastify-analytics', ...headers }
    this.#key = key
    this.#maxBodyBytes = maxBodyBytes
  }

  prepare (items: string[]): PreparedBatch {
    const requests: OutgoingRequest[] = []
    let start = 0
    let size = ENVELOPE_BYTES
    for (let i = 0; i < items.length; i++) {
      // Every item fits an envelope on its own (collect refused bigger ones): split before it overflows.
      const bytes = Buffer.byteLength(items[i]) + 1
      if (i > start && size + bytes > this.#maxBodyBytes) {
        requests.push(this.#request(items, start, i))
        start = i
        size = ENVELOPE_BYTES
      }
      size += bytes
    }
    if (start < items.length) requests.push(this.#request(items, start, items.length))
    return { requests, invalid: 0 }
  }

  #request (items: string[], start: number, end: number): OutgoingRequest {
    // Built once and re-sent byte for byte: the id (an idempotency key for receivers), sentAt and
    // the signed timestamp stay those of the first attempt.
    const id = randomUUID()
    const now = new Date()
    const events = start === 0 && end === items.length ? items.join(',') : items.slice(start, end).join(',')
    const body = `{"id":"${id}","schema":1,"sentAt":"${now.toISOString()}","events":[${events}]}`
    const headers: Record<string, string> = { ...this.#headers, 'webhook-id': id }
    if (this.#key !== undefined) {
      const timestamp = Math.floor(now.getTime() / 1000)
      headers['webhook-timestamp'] = String(timestamp)
      headers['webhook-signature'] = signWebhook(this.#key, id, timestamp, body)
    }
    return { path: this.#path, headers, body, events: end - start }
  }
}

/** POSTs batches of events as JSON to a URL, signed per Standard Webhooks. Create it with `webhookCollector()`. */
export class WebhookCollector implements AnalyticsCollector {
  readonly name: string
  readonly #engine: DeliveryEngine<string>
  readonly #maxEventBytes: number
  readonly #log = new RateLimitedLog(silentLogger)

  constructor (options: WebhookCollectorOptions) {
    const normalized = normalizeWebhookOptions(options)
    this.name = normalized.name
    this.#maxEventBytes = normalized.maxBodyBytes - ENVELOPE_BYTES
    this.#engine = new DeliveryEngine<string>({
      ...normalized.batching,
      name: normalized.name,
      origin: normalized.origin,
      adapter: new WebhookAdapter(normalized.path, normalized.headers, normalized.key, normalized.maxBodyBytes),
      defaults: {
        maxBatchSize: DEFAULT_WEBHOOK_BATCH_SIZE,
        flushIntervalMs: DEFAULT_WEBHOOK_FLUSH_INTERVAL_MS,
        concurrency: DEFAULT_WEBHOOK_CONCURRENCY
      }
    })
  }

  start (signal: AbortSignal, context: CollectorContext): void {
    this.#log.log = context.log
    this.#engine.start(signal, context.log)
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    // Serialised once, here: the queue holds a string (a snapshot that owns nothing of the event)
    // and prepare only joins strings.
    const json = JSON.stringify(eventToJSON(event))
    // UTF-8 takes 1–3 bytes per UTF-16 unit: measure only when the length alone cannot decide.
    if (json.length * 3 > this.#maxEventBytes && (json.length > this.#maxEventBytes || Buffer.byteLength(json) > this.#maxEventBytes)) {
      this.#engine.drop('invalid')
      this.#log.warn('invalid', { bytes: Buffer.byteLength(json), maxBodyBytes: this.#maxEventBytes + ENVELOPE_BYTES }, 'analytics event too large for one webhook body: not sent')
      return
    }
    this.#engine.enqueue(json)
  }

  flush (signal: AbortSignal): Promise<void> {
    return this.#engine.flush(signal)
  }

  close (signal: AbortSignal): Promise<void> {
    return this.#engine.close(signal)
  }

  stats (): DeliveryReport {
    return this.#engine.stats()
  }
}

/**
 * A collector that POSTs `{ id, schema: 1, sentAt, events }` batches to `url`.
 * Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function webhookCollector (options: WebhookCollectorOptions): WebhookCollector {
  return new WebhookCollector(options)
}
