import type { BatchingOptions } from '../../batch/types.js'
import { parseHttpUrl } from '../../http/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
import type { EngineWiring } from '../engine-collector.js'
import { BATCHING_OPTION_KEYS, checkCollectorOptions, eventsFilter, ipPolicyOption, NO_BOT_EVENTS, optionErrors, pickBatchingOptions, type CollectorEventsOption } from '../options.js'
import { SEGMENT_MAX_BATCH_MESSAGES } from './limits.js'

export interface SegmentCollectorOptions extends BatchingOptions, CollectorEventsOption {
  /** The source's write key (Segment), the source's write key (RudderStack) or the API key's `keyId:secret` (Jitsu). */
  writeKey: string
  /**
   * The API's origin, with an optional path prefix; the collector appends `/v1/batch`. Default
   * {@link DEFAULT_SEGMENT_ENDPOINT}. EU workspaces: `https://events.eu1.segmentapis.com`;
   * RudderStack: the data plane URL; Jitsu: the ingest host (see docs/segment.md).
   */
  endpoint?: string
  /** Name in logs and `stats()`. Default {@link DEFAULT_SEGMENT_NAME}. */
  name?: string
  /**
   * What of the visitor's IP `context.ip` carries. Default `'truncate'` (its /24 or /48): Segment
   * stores the IP with the event and forwards it to every destination; the truncated one still
   * gives the country. `'full'` or `'none'` (no `context.ip`: Segment then records this server's IP).
   */
  ip?: IpPolicy
}

export const DEFAULT_SEGMENT_ENDPOINT = 'https://api.segment.io'
export const DEFAULT_SEGMENT_NAME = 'segment'
// 100 messages of ~1 kB make a ~100 kB body, a fifth of the 500 KB limit: few requests per event
// (analytics-node sends 15), and a batch of larger messages is split by size anyway.
export const DEFAULT_SEGMENT_BATCH_SIZE = 100
// A quiet app's events still arrive within a second (analytics-node waits 10 s).
export const DEFAULT_SEGMENT_FLUSH_INTERVAL_MS = 1000
// Two requests in flight carry thousands of events per second in batches of 100, and stay polite:
// Segment asks for fewer than 50 requests per second per source.
export const DEFAULT_SEGMENT_CONCURRENCY = 2

const OWN_OPTION_KEYS = new Set<string>(['writeKey', 'endpoint', 'name', 'ip', ...BATCHING_OPTION_KEYS])

const invalidOption = optionErrors('segmentCollector')

interface NormalizedSegmentOptions extends EngineWiring {
  path: string
  authorization: string
  ip: IpPolicy
}

/** Checks and normalises the options once, at construction. Messages never quote the write key. */
export function normalizeSegmentOptions (options: SegmentCollectorOptions): NormalizedSegmentOptions {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, DEFAULT_SEGMENT_NAME, invalidOption, 'a writeKey')
  const writeKey = options.writeKey
  if (typeof writeKey !== 'string' || writeKey.trim() === '') {
    throw invalidOption('writeKey is required: the source\'s write key (Segment: Source → Settings → API Keys)')
  }
  // It goes into a header: a control character would make every request fail.
  if (/[\x00-\x1f\x7f]/.test(writeKey)) throw invalidOption('writeKey must not contain control characters')

  const parsed = parseHttpUrl(options.endpoint ?? DEFAULT_SEGMENT_ENDPOINT, 'endpoint', 'base', invalidOption)
  const prefix = parsed.pathname.replace(/\/+$/, '')
  // The collector appends the API path itself: an endpoint that already ends with it would send
  // every batch to …/v1/batch/v1/batch, a 404 for each.
  if (/\/v1(\/batch)?$/.test(prefix)) {
    throw invalidOption('endpoint ends with /v1 or /v1/batch: give the API\'s origin (and its path prefix, if any) without it, e.g. "https://api.segment.io"; the collector appends /v1/batch')
  }
  const batching = pickBatchingOptions(options)
  if (batching.maxBatchSize !== undefined && batching.maxBatchSize > SEGMENT_MAX_BATCH_MESSAGES) {
    throw invalidOption(`maxBatchSize must be at most ${SEGMENT_MAX_BATCH_MESSAGES} (the API drops the messages of a larger batch)`)
  }
  return {
    name,
    origin: parsed.origin,
    path: `${prefix}/v1/batch`,
    // Basic auth with the write key as the user name and no password, as the API documents.
    authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
    ip: ipPolicyOption(options.ip, 'truncate', invalidOption),
    batching,
    // No crawler's event by default: Segment's figures are about people (docs/crawlers.md).
    events: eventsFilter(options.events, NO_BOT_EVENTS, invalidOption),
    defaults: {
      maxBatchSize: DEFAULT_SEGMENT_BATCH_SIZE,
      flushIntervalMs: DEFAULT_SEGMENT_FLUSH_INTERVAL_MS,
      concurrency: DEFAULT_SEGMENT_CONCURRENCY
    }
  }
}
