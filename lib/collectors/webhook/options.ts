import { createSecretKey, type KeyObject } from 'node:crypto'
import type { BatchingOptions } from '../../batch/types.js'
import { parseHttpUrl } from '../../http/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
import type { EngineWiring } from '../engine-collector.js'
import { BATCHING_OPTION_KEYS, checkCollectorOptions, eventsFilter, EVERY_EVENT, ipPolicyOption, pickBatchingOptions, type CollectorEventsOption } from '../options.js'
import { normalizeWebhookHeaders } from './headers.js'
import { invalidOption } from './invalid-option.js'
import { decodeWebhookSecret } from './secret.js'

export interface WebhookCollectorOptions extends BatchingOptions, CollectorEventsOption {
  /** Where batches are POSTed: an absolute http(s) URL. */
  url: string
  /** Extra request headers (an `authorization`, say). Hop-by-hop, framing and signing headers are refused. */
  headers?: Record<string, string>
  /** Standard Webhooks signing secret: `whsec_<base64>` or plain base64 of 24 to 64 random bytes. */
  secret?: string
  /** Name in logs and `stats()`. Default {@link DEFAULT_WEBHOOK_NAME}. */
  name?: string
  /** Largest request body; a batch is split to stay under it. Default {@link DEFAULT_WEBHOOK_MAX_BODY_BYTES}. */
  maxBodyBytes?: number
  /**
   * What of the visitor's IP `clientIP` carries. Default `'truncate'` (its /24 or /48): receivers
   * usually store events, and a full IP there is personal data. `'full'` or `'none'` (empty).
   */
  ip?: IpPolicy
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
// Standard Webhooks recommends giving receivers 15–30 s. (Each attempt is signed when sent, so
// long retries do not push the signed timestamp past its verifiers' 5-minute tolerance.)
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000
// Fastify's default bodyLimit: a body this size passes a receiver that kept its defaults.
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
const MIN_BODY_BYTES = 1024

const OWN_OPTION_KEYS = new Set<string>(['url', 'headers', 'secret', 'name', 'maxBodyBytes', 'ip', ...BATCHING_OPTION_KEYS])

interface NormalizedWebhookOptions extends EngineWiring {
  path: string
  headers: Record<string, string>
  key: KeyObject | undefined
  maxBodyBytes: number
  ip: IpPolicy
}

/** Checks and normalises the options once, at construction. */
export function normalizeWebhookOptions (options: WebhookCollectorOptions): NormalizedWebhookOptions {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, DEFAULT_WEBHOOK_NAME, invalidOption, 'a url')

  if (options.url === undefined || options.url === '') throw invalidOption('url is required: an absolute http(s) URL')
  const parsed = parseHttpUrl(options.url, 'url', 'url', invalidOption)

  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < MIN_BODY_BYTES) {
    throw invalidOption(`maxBodyBytes must be an integer ≥ ${MIN_BODY_BYTES}`)
  }

  const ip = ipPolicyOption(options.ip, 'truncate', invalidOption)
  const headers = normalizeWebhookHeaders(options.headers)
  const key = options.secret === undefined ? undefined : createSecretKey(decodeWebhookSecret(options.secret))
  const batching = pickBatchingOptions(options)
  batching.timeoutMs ??= DEFAULT_WEBHOOK_TIMEOUT_MS

  const defaults = { maxBatchSize: DEFAULT_WEBHOOK_BATCH_SIZE, flushIntervalMs: DEFAULT_WEBHOOK_FLUSH_INTERVAL_MS, concurrency: DEFAULT_WEBHOOK_CONCURRENCY }
  return { name, origin: parsed.origin, path: parsed.pathname + parsed.search, headers, key, maxBodyBytes, ip, batching, defaults, events: eventsFilter(options.events, EVERY_EVENT, invalidOption) }
}
