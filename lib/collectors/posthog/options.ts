import type { BatchingOptions } from '../../batch/types.js'
import { parseHttpUrl } from '../../http/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
import type { EngineWiring } from '../engine-collector.js'
import { BATCHING_OPTION_KEYS, checkCollectorOptions, eventsFilter, ipPolicyOption, NO_BOT_EVENTS, optionErrors, pickBatchingOptions, type CollectorEventsOption } from '../options.js'

export interface PosthogCollectorOptions extends BatchingOptions, CollectorEventsOption {
  /** The project API key (`phc_…`, Project settings > Project API key): a write-only key, sent in each body. */
  apiKey: string
  /**
   * The ingestion host: `https://us.i.posthog.com` (US Cloud), `https://eu.i.posthog.com` (EU Cloud),
   * your self-hosted instance or a reverse proxy (a path prefix is kept). Default {@link DEFAULT_POSTHOG_HOST}.
   */
  host?: string
  /** Name in logs and `stats()`. Default {@link DEFAULT_POSTHOG_NAME}. */
  name?: string
  /**
   * What of the visitor's IP goes in `$ip`. Default `'truncate'` (its /24 or /48): PostHog stores
   * `$ip` with the event (unless the project discards client IPs) and derives the GeoIP location from
   * it, which the truncated address still gives at city or region level. `'full'` sends it whole;
   * `'none'` sends none and sets `$geoip_disable`, so PostHog does not place every visitor where this
   * server is.
   */
  ip?: IpPolicy
}

export const DEFAULT_POSTHOG_NAME = 'posthog'
export const DEFAULT_POSTHOG_HOST = 'https://us.i.posthog.com'
/** Events per request: PostHog's SDKs send 100 at most; 1000 small events are ~1 MB, far under 20 MB. */
export const DEFAULT_POSTHOG_BATCH_SIZE = 1000
/** A partial batch leaves after a second: PostHog's live view stays near real time at low traffic. */
export const DEFAULT_POSTHOG_FLUSH_INTERVAL_MS = 1000
export const DEFAULT_POSTHOG_CONCURRENCY = 4

const OWN_OPTION_KEYS = new Set<string>(['apiKey', 'host', 'name', 'ip', ...BATCHING_OPTION_KEYS])

const invalidOption = optionErrors('posthogCollector')

interface NormalizedPosthogOptions extends EngineWiring {
  apiKey: string
  path: string
  ip: IpPolicy
}

/** Checks and normalises the options once, at construction. */
export function normalizePosthogOptions (options: PosthogCollectorOptions): NormalizedPosthogOptions {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, DEFAULT_POSTHOG_NAME, invalidOption, 'an apiKey')
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw invalidOption('apiKey is required: the project API key (phc_…) from Project settings')
  }
  const parsed = parseHttpUrl(options.host ?? DEFAULT_POSTHOG_HOST, 'host', 'base', invalidOption)
  const prefix = parsed.pathname.replace(/\/+$/, '')
  if (/\/(batch|capture|e|i\/v0\/e)$/.test(prefix)) {
    throw invalidOption('host ends with an endpoint path: give the ingestion host (and a proxy\'s path prefix, if any); the collector appends /batch/')
  }
  return {
    name,
    apiKey: options.apiKey.trim(),
    origin: parsed.origin,
    path: `${prefix}/batch/`,
    ip: ipPolicyOption(options.ip, 'truncate', invalidOption),
    batching: pickBatchingOptions(options),
    // No crawler's event by default: PostHog's figures are about people (docs/crawlers.md).
    events: eventsFilter(options.events, NO_BOT_EVENTS, invalidOption),
    defaults: {
      maxBatchSize: DEFAULT_POSTHOG_BATCH_SIZE,
      flushIntervalMs: DEFAULT_POSTHOG_FLUSH_INTERVAL_MS,
      concurrency: DEFAULT_POSTHOG_CONCURRENCY
    }
  }
}
