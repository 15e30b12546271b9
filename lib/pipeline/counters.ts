import type { TextCuts } from '../text.js'
import type { Logger, RateLimitedLog } from '../log.js'
import { crawlerStats, type CrawlerStats } from '../crawlers/tally.js'

/** Automatic events not emitted, by reason: skipping is not loss, but it is never silent. */
export interface SkippedCounters {
  notPage: number
  bot: number
  prefetch: number
  ignored: number
  noRoute: number
  consent: number
  beforeSend: number
  spam: number
}

/** Event-level counters: what never reached a collector. */
export interface EventCounters {
  /** Events handed to the collectors (automatic and tracked). */
  emitted: number
  /** Events refused before fan-out (bad input to `track`, `setRevenue`, …). */
  invalid: number
  /** Properties dropped: a value that is not a string/number/boolean, or a key beyond the 64 cap. */
  propertiesDropped: number
  /** String fields, property keys and property values cut to their cap (one per cut; see docs/guarantees.md). */
  truncated: number
  /**
   * Requests that gave no automatic event, by reason: `notPage` (a GET answered with something
   * other than HTML under `pageViews: 'html'`, HEAD, OPTIONS), `bot`, `prefetch` (prefetch and
   * prerender), `ignored` (the `ignore`/`classify` options, route config `false`, `skip()`,
   * `pageViews: false`, `actions: false`), `noRoute` (a non-GET that matched no route),
   * `consent` (the request's consent was `'denied'`), `beforeSend` (the hook returned null),
   * `spam` (the Referer is on the referrer-spam list).
   */
  skipped: SkippedCounters
  /** Tracked events not emitted because their request's consent was `'denied'` (automatic ones: `skipped.consent`). */
  consentDenied: number
  /** Tracked events `beforeSend` returned null for (automatic ones: `skipped.beforeSend`). */
  beforeSendDropped: number
  /** Events (automatic or tracked) dropped because `beforeSend` threw or returned something that is not an event: fail closed. */
  beforeSendFailed: number
  /**
   * Calls that found no request event to act on, so did nothing: a module helper outside a request
   * (or with `requestContext: false`), or a `request.analytics` call that shapes the automatic event
   * made before the plugin's onRequest hook, outside its scope, or after the event was built.
   */
  unattached: number
  /**
   * Requests from crawlers (what `isbot` flagged) that reached the bot rule, skipped under
   * `bots: 'skip'` or kept under `'label'`: by purpose and by name, spoofs apart (docs/crawlers.md).
   */
  crawlers: CrawlerStats
}

/** A reason for `stats().events.skipped`. */
export type SkipReason = keyof SkippedCounters

/** Fresh zeroed counters. */
export function emptyEventCounters (): EventCounters {
  return {
    emitted: 0,
    invalid: 0,
    propertiesDropped: 0,
    truncated: 0,
    skipped: { notPage: 0, bot: 0, prefetch: 0, ignored: 0, noRoute: 0, consent: 0, beforeSend: 0, spam: 0 },
    consentDenied: 0,
    beforeSendDropped: 0,
    beforeSendFailed: 0,
    unattached: 0,
    crawlers: crawlerStats(undefined)
  }
}

/** Where a string cut to its cap is reported: counted in `stats().events.truncated`, logged rate-limited. */
export function countingCuts (counters: EventCounters, log: RateLimitedLog): TextCuts {
  return {
    cut (field) {
      counters.truncated++
      log.warn('truncated', { field }, `analytics ${field} cut to its maximum length (see docs/guarantees.md); counted in stats().events.truncated`)
    }
  }
}

/** Counts properties dropped (not a string/number/boolean, or beyond the 64 cap) and logs it rate-limited. */
export function countPropertiesDropped (counters: EventCounters, log: RateLimitedLog, count: number, requestLog?: () => Logger): void {
  if (count === 0) return
  counters.propertiesDropped += count
  log.warn('properties', { dropped: count }, 'analytics properties dropped (not a string/number/boolean, or beyond 64 per event)', requestLog)
}
