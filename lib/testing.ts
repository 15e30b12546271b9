import type { AnalyticsCollector } from './collector.js'
import { eventToJSON, type AnalyticsEvent, type AnalyticsEventJSON } from './event.js'
import { unattachedSinks, type RegistrationStats } from './helpers.js'
import { eventsFilter, type CollectorEvents } from './collectors/options.js'

export interface MemoryCollectorOptions {
  /** Default 'memory'. */
  name?: string
  /** Oldest events are forgotten beyond this many (the count still grows). Default 10 000. */
  maxEvents?: number
  /** Which events it takes, as the built-in collectors' `events` option (docs/crawlers.md). Default: every event. */
  events?: CollectorEvents
}

/** A collector for your own tests: it keeps every event it receives, as JSON snapshots. */
export interface MemoryCollector extends AnalyticsCollector {
  /** The events received so far, oldest first (snapshots: no request, revenue as `{ amount, currency }`, properties with their types). */
  readonly events: AnalyticsEventJSON[]
  /** Lifecycle calls seen, in order: 'start', 'flush', 'close'. */
  readonly calls: string[]
  /**
   * Resolves with the events once at least `count` have arrived; rejects after `timeoutMs` (default
   * 2000) with what the plugin counted instead (skipped requests by reason, invalid input, calls
   * outside a request) and what to change for the usual ones.
   */
  waitFor (count: number, options?: { timeoutMs?: number }): Promise<AnalyticsEventJSON[]>
  /** Forgets the events received so far. */
  clear (): void
}

/**
 * `memoryCollector()`: register it in a test app, make requests with `app.inject`, and assert on
 * `collector.events` (or `await collector.waitFor(n)` for events tracked asynchronously).
 */
export function memoryCollector (options: MemoryCollectorOptions = {}): MemoryCollector {
  const name = options.name ?? 'memory'
  const maxEvents = options.maxEvents ?? 10_000
  const events: AnalyticsEventJSON[] = []
  const calls: string[] = []
  let waiters: Array<{ count: number, resolve: (events: AnalyticsEventJSON[]) => void }> = []
  let received = 0
  const wants = eventsFilter(options.events)

  return {
    name,
    ...(wants === undefined ? {} : { wants }),
    events,
    calls,
    start () { calls.push('start') },
    collect (event: Readonly<AnalyticsEvent>) {
      events.push(eventToJSON(event))
      if (events.length > maxEvents) events.shift()
      received++
      if (waiters.length > 0) {
        waiters = waiters.filter((waiter) => {
          if (received < waiter.count) return true
          waiter.resolve(events)
          return false
        })
      }
    },
    flush () { calls.push('flush') },
    close () { calls.push('close') },
    waitFor (count: number, waitOptions?: { timeoutMs?: number }) {
      if (received >= count) return Promise.resolve(events)
      const timeoutMs = waitOptions?.timeoutMs ?? 2000
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((waiter) => waiter.resolve !== done)
          reject(new Error(`memoryCollector "${name}" received ${received} of ${count} events within ${timeoutMs} ms${whatWasCounted(name)}`))
        }, timeoutMs)
        const done = (result: AnalyticsEventJSON[]): void => { clearTimeout(timer); resolve(result) }
        waiters.push({ count, resolve: done })
      })
    },
    clear () {
      events.length = 0
      received = 0
    }
  }
}

// What to change for the reasons a test most often meets (docs/data-quality.md has them all).
const HINTS: Record<string, string> = {
  notPage: 'GET answers that are not HTML: reply.type(\'text/html\'), route config { analytics: { type: \'pageview\' } } or pageViews: \'all\'',
  bot: 'requests from bots or without a browser User-Agent: send one, or bots: \'keep\'',
  ignored: 'the ignore/classify options, route config false, skip(), pageViews or actions false',
  noRoute: 'non-GET requests that matched no route',
  invalid: 'input track() or a helper refused (the plugin logged why)',
  unattached: 'helper calls outside a request: use app.analytics.track() there'
}

/** The counters of the live registrations that hold a collector of this name, as a message tail. */
function whatWasCounted (name: string): string {
  const parts: string[] = []
  for (const sink of unattachedSinks) {
    const stats: RegistrationStats = sink.stats()
    if (!(name in stats.collectors)) continue
    const counted: Record<string, number> = { ...stats.events.skipped as Record<string, number>, invalid: stats.events.invalid, unattached: stats.events.unattached }
    for (const [reason, value] of Object.entries(counted)) {
      if (value > 0) parts.push(`${reason} ${value}${HINTS[reason] === undefined ? '' : ` (${HINTS[reason]})`}`)
    }
  }
  return parts.length === 0 ? '; the plugin counted nothing skipped' : `; the plugin counted instead: ${parts.join('; ')}`
}
