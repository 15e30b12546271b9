import type { BatchingOptions } from '../../batch/types.js'
import { parseHttpUrl } from '../../http/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
import type { EngineWiring } from '../engine-collector.js'
import { BATCHING_OPTION_KEYS, checkCollectorOptions, eventsFilter, ipPolicyOption, NO_BOT_EVENTS, optionErrors, pickBatchingOptions, type CollectorEventsOption } from '../options.js'

export interface PlausibleCollectorOptions extends BatchingOptions, CollectorEventsOption {
  /** The site as added in Plausible (`example.com`; a comma-separated list sends to several sites). */
  domain: string
  /** Plausible's origin, with an optional path prefix for a self-hosted instance. Default {@link DEFAULT_PLAUSIBLE_BASE_URL}. */
  baseUrl?: string
  /** Name in logs and `stats()`. Default {@link DEFAULT_PLAUSIBLE_NAME}. */
  name?: string
  /**
   * What of the visitor's IP goes in `X-Forwarded-For`. Default `'full'`: Plausible uses it only to
   * derive the country and a daily-salted visitor hash, and does not store it. `'truncate'` (its /24
   * or /48) blurs both; `'none'` sends no header, so Plausible sees this server's IP: every visitor
   * merges into one and, on Plausible Cloud, a data-centre IP gets events dropped.
   */
  ip?: IpPolicy
}

export const DEFAULT_PLAUSIBLE_BASE_URL = 'https://plausible.io'
export const DEFAULT_PLAUSIBLE_NAME = 'plausible'
// The Events API takes one event per request and has no timestamp field: Plausible stamps each
// event when it arrives, so every event is a batch of its own and leaves as soon as a slot is free.
export const DEFAULT_PLAUSIBLE_BATCH_SIZE = 1
// With batches of one no batch is ever partial, so the interval only matters if a user raises
// maxBatchSize; keep it short so queueing delay does not become a timestamp error.
export const DEFAULT_PLAUSIBLE_FLUSH_INTERVAL_MS = 1
// One request per event costs one round trip per event per connection: at a 20–50 ms RTT to
// plausible.io, 8 keep-alive connections carry 160–400 events/s, enough for most sites that send
// server-side, while staying polite to a per-site ingest throttle. Raise it for more traffic.
export const DEFAULT_PLAUSIBLE_CONCURRENCY = 8

const OWN_OPTION_KEYS = new Set<string>(['domain', 'baseUrl', 'name', 'ip', ...BATCHING_OPTION_KEYS])

const invalidOption = optionErrors('plausibleCollector')

const BAD_DOMAIN_CHARS = /[\s/\\?#@:\x00-\x1f\x7f]/

interface NormalizedPlausibleOptions extends EngineWiring {
  domain: string
  /** The configured sites, lowercased: the first builds URLs whose host is not one of them (or a subdomain). */
  sites: readonly string[]
  path: string
  ip: IpPolicy
}

/** Checks and normalises the options once, at construction. */
export function normalizePlausibleOptions (options: PlausibleCollectorOptions): NormalizedPlausibleOptions {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, DEFAULT_PLAUSIBLE_NAME, invalidOption, 'a domain')

  if (typeof options.domain !== 'string' || options.domain.trim() === '') {
    throw invalidOption('domain is required: the site as added in Plausible, e.g. "example.com"')
  }
  const domain = options.domain.trim()
  const sites = domain.split(',').map((site) => site.trim())
  for (const site of sites) {
    if (site === '' || BAD_DOMAIN_CHARS.test(site)) {
      throw invalidOption(`domain ${JSON.stringify(domain)} is not a site name like "example.com" (no scheme, port or path)`)
    }
  }

  const parsed = parseHttpUrl(options.baseUrl ?? DEFAULT_PLAUSIBLE_BASE_URL, 'baseUrl', 'base', invalidOption)
  const prefix = parsed.pathname.replace(/\/+$/, '')
  // The collector appends the Events API path itself: a baseUrl that already ends with it would
  // send every event to …/api/event/api/event, a 404 for each.
  if (/\/api\/event$/.test(prefix)) {
    throw invalidOption('baseUrl ends with /api/event: give the instance\'s origin (and its path prefix, if any) without it, e.g. "https://plausible.example.com"; the collector appends /api/event')
  }

  return {
    name,
    domain,
    sites: Object.freeze(sites.map((site) => site.toLowerCase())),
    origin: parsed.origin,
    path: `${prefix}/api/event`,
    ip: ipPolicyOption(options.ip, 'full', invalidOption),
    batching: pickBatchingOptions(options),
    // No crawler's event by default: Plausible counts people (and drops bots it recognises itself).
    events: eventsFilter(options.events, NO_BOT_EVENTS, invalidOption),
    defaults: {
      maxBatchSize: DEFAULT_PLAUSIBLE_BATCH_SIZE,
      flushIntervalMs: DEFAULT_PLAUSIBLE_FLUSH_INTERVAL_MS,
      concurrency: DEFAULT_PLAUSIBLE_CONCURRENCY
    }
  }
}
