import type { BatchingOptions } from '../../batch/types.js'
import { parseHttpUrl } from '../../http/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
import type { EngineWiring } from '../engine-collector.js'
import { BATCHING_OPTION_KEYS, checkCollectorOptions, eventsFilter, ipPolicyOption, NO_BOT_EVENTS, optionErrors, pickBatchingOptions, type CollectorEventsOption } from '../options.js'

export interface UmamiCollectorOptions extends BatchingOptions, CollectorEventsOption {
  /** The website's id in Umami (Settings → Websites → Edit: a UUID). */
  websiteId: string
  /** Umami's origin, with an optional path prefix (`https://umami.example.com`; Umami Cloud: `https://cloud.umami.is`). */
  baseUrl: string
  /** Name in logs and `stats()`. Default {@link DEFAULT_UMAMI_NAME}. */
  name?: string
  /**
   * What of the visitor's IP goes in {@link UmamiCollectorOptions.ipHeader}. Default `'full'`:
   * Umami uses it only for the country and its salted session hash, and does not store it.
   * `'truncate'` (its /24 or /48) blurs both; `'none'` sends no header, so Umami sees this
   * server's IP: every visitor of a day merges into one session per browser.
   */
  ip?: IpPolicy
  /**
   * The header the visitor's IP goes in. Default `'x-forwarded-for'`, which Umami reads before
   * every other client-IP header but `x-client-ip`. Set it to the header named by the instance's
   * `CLIENT_IP_HEADER` when a proxy in front of Umami rewrites X-Forwarded-For.
   */
  ipHeader?: string
}

export const DEFAULT_UMAMI_NAME = 'umami'
export const DEFAULT_UMAMI_IP_HEADER = 'x-forwarded-for'
// `/api/send` takes one event per request and stamps it when it arrives (a `timestamp` field
// would make it file the event as historical): every event is a batch of its own, sent at once.
export const DEFAULT_UMAMI_BATCH_SIZE = 1
export const DEFAULT_UMAMI_FLUSH_INTERVAL_MS = 1
// One round trip per event per connection, as for Plausible: 8 keep-alive connections carry
// 160–400 events/s at a 20–50 ms RTT. Raise it for more traffic.
export const DEFAULT_UMAMI_CONCURRENCY = 8

const OWN_OPTION_KEYS = new Set<string>(['websiteId', 'baseUrl', 'name', 'ip', 'ipHeader', ...BATCHING_OPTION_KEYS])
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i
// Headers the request itself needs: an ipHeader among them would break it.
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'user-agent', 'host', 'connection', 'transfer-encoding', 'authorization', 'cookie'])

const invalidOption = optionErrors('umamiCollector')

interface NormalizedUmamiOptions extends EngineWiring {
  websiteId: string
  path: string
  ip: IpPolicy
  ipHeader: string
}

/** Checks and normalises the options once, at construction. */
export function normalizeUmamiOptions (options: UmamiCollectorOptions): NormalizedUmamiOptions {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, DEFAULT_UMAMI_NAME, invalidOption, 'a websiteId and a baseUrl')
  if (typeof options.websiteId !== 'string' || !UUID.test(options.websiteId)) {
    throw invalidOption('websiteId is required: the website\'s id in Umami, a UUID (Settings → Websites → Edit)')
  }
  if (options.baseUrl === undefined) throw invalidOption('baseUrl is required: Umami\'s origin, e.g. "https://umami.example.com" or "https://cloud.umami.is"')
  const parsed = parseHttpUrl(options.baseUrl, 'baseUrl', 'base', invalidOption)
  const prefix = parsed.pathname.replace(/\/+$/, '')
  if (/\/api(\/send)?$/.test(prefix)) {
    throw invalidOption('baseUrl ends with /api or /api/send: give the instance\'s origin (and its path prefix, if any) without it; the collector appends /api/send')
  }
  const ipHeader = (options.ipHeader ?? DEFAULT_UMAMI_IP_HEADER).toLowerCase()
  if (!HEADER_NAME.test(ipHeader) || RESERVED_HEADERS.has(ipHeader)) {
    throw invalidOption('ipHeader must be a header name such as "x-forwarded-for" or "cf-connecting-ip" (not one the request itself needs)')
  }
  return {
    name,
    websiteId: options.websiteId.toLowerCase(),
    origin: parsed.origin,
    path: `${prefix}/api/send`,
    ip: ipPolicyOption(options.ip, 'full', invalidOption),
    ipHeader,
    batching: pickBatchingOptions(options),
    // No crawler's event by default: Umami's figures are about people (docs/crawlers.md).
    events: eventsFilter(options.events, NO_BOT_EVENTS, invalidOption),
    defaults: {
      maxBatchSize: DEFAULT_UMAMI_BATCH_SIZE,
      flushIntervalMs: DEFAULT_UMAMI_FLUSH_INTERVAL_MS,
      concurrency: DEFAULT_UMAMI_CONCURRENCY
    }
  }
}
