import type { AnalyticsEvent } from './event.js'
import type { Logger } from './log.js'

/** Why an accepted event was not delivered. */
export interface DropCounts {
  /** The collector's bounded queue (or pending-work bound) was full. */
  queueFull: number
  /** The event could not be sent as it is (e.g. GA4 refuses timestamps older than 72 h). */
  invalid: number
  /** The destination refused it (a 4xx that is not worth retrying). */
  rejected: number
  /** The destination accepted the request but discarded the event (Plausible's `x-plausible-dropped`). */
  destination: number
  /** Retries exhausted, or the collector itself threw or rejected. */
  failed: number
  /** Still queued or in flight when the shutdown deadline was reached. */
  shutdown: number
  /** Arrived after the collector was closed. */
  closed: number
}

export type DropReason = keyof DropCounts
export const DROP_REASONS: readonly DropReason[] = [
  'queueFull', 'invalid', 'rejected', 'destination', 'failed', 'shutdown', 'closed'
]

/** A fresh set of drop counts, all zero: one place to add a reason's starting count. */
export function emptyDropCounts (): DropCounts {
  return { queueFull: 0, invalid: 0, rejected: 0, destination: 0, failed: 0, shutdown: 0, closed: 0 }
}

/** Σ dropped: every event counted in one of the drop reasons. */
export function totalDropped (dropped: Partial<DropCounts>): number {
  let total = 0
  for (const reason of DROP_REASONS) total += dropped[reason] ?? 0
  return total
}

/**
 * What a buffering collector reports about the events its `collect` accepted.
 * Every event `collect` accepted must end up in `delivered` or in one `dropped` reason.
 */
export interface DeliveryReport {
  delivered: number
  dropped: Partial<DropCounts>
  retries: number
  /** Events waiting in the collector's queue. */
  queued: number
  /** Events in requests that are being sent or waiting to be retried. */
  inFlight: number
}

/** One collector's figures in `app.analytics.stats()`. After `close()`: accepted = delivered + Σ dropped. */
export interface CollectorStats {
  accepted: number
  delivered: number
  dropped: DropCounts
  retries: number
  queued: number
  inFlight: number
}

/** What the plugin hands a collector at start. */
export interface CollectorContext {
  /** `fastify.log.child({ plugin: 'analytics', collector: name })`. */
  log: Logger
  /**
   * Optional: called after every change to what the collector's `stats()` reports. A host that
   * copies those figures elsewhere (the delivery worker publishes them to the request thread) sets
   * it instead of polling. `beforeRequest` is true when events were just taken for a request not
   * yet sent: figures published then, before any byte leaves, never show a delivered batch as
   * queued. The built-in collectors call it; others may ignore it.
   */
  onStatsChange?: (beforeRequest: boolean) => void
}

/**
 * A destination for analytics events. Application code never calls these members:
 * the plugin does, and isolates each collector from the others and from the request path.
 */
export interface AnalyticsCollector {
  /** Unique among the registered collectors; used in logs and `stats()`. */
  readonly name: string
  /**
   * Optional. Request headers (lower-case names) this collector reads from `event.requestHeaders`,
   * e.g. `['cookie']` for GA4's `_ga` cookies. Only declared headers are captured, so the app's
   * other headers (session cookies, authorisation) never reach a collector or the delivery worker.
   */
  readonly requestHeaders?: readonly string[]
  /**
   * Optional. Whether this collector takes an event (the built-in collectors' `events` option:
   * `eventsFilter`). Asked before `collect`; an event it does not want is not counted against it
   * (not accepted, not dropped). Must be fast and must not keep the event.
   */
  wants?(event: Readonly<AnalyticsEvent>): boolean
  /**
   * Called once at `onReady`. The signal fires at `startTimeoutMs`. The context carries the app's
   * logger (a child bound to this collector's name); collectors that do not log can ignore it.
   */
  start (signal: AbortSignal, context: CollectorContext): void | Promise<void>
  /**
   * Called once per event, on the request path: must be fast and do no I/O. Copy what you keep:
   * the event is shared with other collectors and its `request` is valid only during this call.
   * A returned promise counts as pending work (bounded); its rejection counts the event as `failed`.
   */
  collect (event: Readonly<AnalyticsEvent>): void | Promise<void>
  /** Deliver everything accepted so far, or stop when the signal fires. */
  flush (signal: AbortSignal): void | Promise<void>
  /** Called once, after `flush`, at `onClose`. The signal fires at the shutdown deadline. */
  close (signal: AbortSignal): void | Promise<void>
  /**
   * Optional. A collector that buffers events reports their fate here. Without it, an event counts
   * as delivered when `collect` returns (or its promise resolves).
   */
  stats?(): DeliveryReport
}
