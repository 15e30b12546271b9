import { setMaxListeners } from 'node:events'
import type { AnalyticsCollector, CollectorStats, DeliveryReport, DropCounts } from './collector.js'
import { DROP_REASONS, emptyDropCounts, totalDropped } from './collector.js'
import type { AnalyticsEvent } from './event.js'
import { forgetEventJSON } from './event-json.js'
import { RateLimitedLog, type Logger } from './log.js'
import { FST_ANALYTICS_START_FAILED } from './errors.js'
import { errorText } from './util.js'

/** Unsettled `collect` promises allowed per collector before its new events are dropped (`queueFull`). */
export const MAX_PENDING_COLLECTS = 1024

function isThenable (value: unknown): value is PromiseLike<void> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function'
}

/** Rejects when the signal fires, so one hung member never holds the others. */
function untilAborted (signal: AbortSignal): Promise<'aborted'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('aborted')
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true })
  })
}

/**
 * A lifecycle deadline. Deliberately not unref()ed, unlike the background timers: while the app
 * awaits ready() or close(), a collector stuck on a bare promise holds no handle, and an unref()ed
 * deadline would let the process exit mid-shutdown without the summary log. It is bounded and cleared.
 */
function deadline (controller: AbortController, timeoutMs: number, reason: string): NodeJS.Timeout {
  // One signal serves every collector, and each may listen to it (worker stand-ins listen twice):
  // Node's leak warning at 11 listeners would fire for an app with six collectors.
  setMaxListeners(0, controller.signal)
  return setTimeout(() => controller.abort(new Error(reason)), timeoutMs)
}

type Member = 'start' | 'flush' | 'close' | 'stats'

/**
 * One collector as the fan-out sees it: its accounting, its bound on pending work, and
 * calls into it that can never throw into the caller.
 */
class CollectorSlot {
  readonly collector: AnalyticsCollector
  readonly name: string
  readonly #log: RateLimitedLog
  readonly #reports: boolean
  readonly #wants: ((event: Readonly<AnalyticsEvent>) => boolean) | undefined
  accepted = 0
  #delivered = 0
  readonly #dropped = emptyDropCounts()
  #pending = 0
  #closed = false
  /** Set once close has finished or timed out: late settlements of pending collects are ignored. */
  #final = false

  /** Events the collector accepted without this slot (from the delivery worker's own pipeline). */
  readonly #elsewhere: ((collector: object) => number) | undefined

  constructor (collector: AnalyticsCollector, log: Logger, elsewhere?: (collector: object) => number) {
    this.collector = collector
    this.#elsewhere = elsewhere
    this.name = collector.name
    this.#log = new RateLimitedLog(log)
    this.#reports = typeof collector.stats === 'function'
    this.#wants = typeof collector.wants === 'function' ? collector.wants.bind(collector) : undefined
  }

  get log (): Logger { return this.#log.log }

  deliver (event: Readonly<AnalyticsEvent>): void {
    const wants = this.#wants
    if (wants !== undefined) {
      try {
        if (!wants(event)) return
      } catch (error) {
        // The app's filter threw: the event was meant for this collector, and it is lost to it.
        this.accepted++
        this.#dropped.failed++
        this.#log.error('wants', { err: error }, 'analytics collector\'s events filter threw; the event is counted failed')
        return
      }
    }
    this.accepted++
    if (this.#closed) {
      this.#dropped.closed++
      return
    }
    if (this.#pending >= MAX_PENDING_COLLECTS) {
      this.#dropped.queueFull++
      this.#log.warn('pending', { pending: this.#pending }, 'analytics collector has too many pending collect() calls; dropping events')
      return
    }
    try {
      const result: unknown = this.collector.collect(event)
      // Inside the try: reading `then` can throw (a getter). Promise.resolve adopts a thenable
      // once, so one that calls back twice, or throws from `then`, cannot skew the accounting
      // or throw into the request path.
      if (isThenable(result)) {
        this.#pending++
        Promise.resolve(result).then(this.#onCollected, this.#onCollectFailed)
        return
      }
    } catch (error) {
      this.#dropped.failed++
      this.#log.error('collect', { err: error }, 'analytics collector threw in collect()')
      return
    }
    this.#delivered++
  }

  // Arrow properties: one function per collector, not one closure per event.
  readonly #onCollected = (): void => {
    if (this.#final) return
    this.#pending--
    this.#delivered++
  }

  readonly #onCollectFailed = (error: unknown): void => {
    if (this.#final) return
    this.#pending--
    this.#dropped.failed++
    this.#log.error('collect', { err: error }, 'analytics collector rejected in collect()')
  }

  /** Calls a lifecycle member; resolves with the error (or 'aborted'), never rejects. */
  async call (member: Exclude<Member, 'stats'>, signal: AbortSignal, context?: { log: Logger }): Promise<unknown> {
    try {
      const result = member === 'start'
        ? this.collector.start(signal, context as { log: Logger })
        : this.collector[member](signal)
      if (!isThenable(result)) return undefined
      const settled = Promise.resolve(result).then(() => undefined, (error: unknown) => error ?? new Error(`${member}() rejected`))
      return await Promise.race([settled, untilAborted(signal)])
    } catch (error) {
      return error ?? new Error(`${member}() threw`)
    }
  }

  markClosed (): void {
    this.#closed = true
  }

  /** Ends the accounting: collects still pending at the deadline are counted `shutdown`. */
  finalize (): void {
    if (this.#final) return
    this.#final = true
    this.#dropped.shutdown += this.#pending
    this.#pending = 0
  }

  stats (): CollectorStats {
    const dropped = { ...this.#dropped }
    // Without a usable report, an event counts as delivered when collect returned (or resolved).
    let delivered = this.#delivered
    let retries = 0
    let queued = 0
    let inFlight = this.#pending
    if (this.#reports) {
      const report = this.#report()
      if (report !== undefined) {
        delivered = report.delivered
        retries = report.retries
        queued = report.queued
        inFlight += report.inFlight
        for (const reason of DROP_REASONS) dropped[reason] += report.dropped[reason] ?? 0
      }
    }
    const accepted = this.#elsewhere === undefined ? this.accepted : this.accepted + this.#elsewhere(this.collector)
    return { accepted, delivered, dropped, retries, queued, inFlight }
  }

  /** The collector's own report, copied and checked; undefined (logged) when it throws or is not one. */
  #report (): DeliveryReport | undefined {
    let report: DeliveryReport | undefined
    try {
      report = readReport(this.collector.stats?.())
    } catch (error) {
      this.#log.error('stats', { err: error }, 'analytics collector threw in stats()')
      return undefined
    }
    if (report === undefined) {
      this.#log.error('stats', {}, 'analytics collector stats() returned an invalid report (counts must be non-negative integers)')
    }
    return report
  }
}

function isCount (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** A copy of a collector's report when every figure is a non-negative integer, else undefined. May throw (getters). */
function readReport (value: unknown): DeliveryReport | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const { delivered, dropped, retries, queued, inFlight } = value as Record<string, unknown>
  if (!isCount(delivered) || !isCount(retries) || !isCount(queued) || !isCount(inFlight)) return undefined
  if (dropped === null || typeof dropped !== 'object') return undefined
  const counts: Partial<DropCounts> = {}
  for (const reason of DROP_REASONS) {
    const count = (dropped as Record<string, unknown>)[reason]
    if (count === undefined) continue
    if (!isCount(count)) return undefined
    counts[reason] = count
  }
  return { delivered, dropped: counts, retries, queued, inFlight }
}

/**
 * Fans each event out to every collector, isolates them from each other and from the
 * request path, and runs their lifecycle within deadlines.
 */
export class FanOut {
  readonly #slots: CollectorSlot[]
  #closing: Promise<void> | undefined

  /** `elsewhere`: events each collector accepted without the fan-out (a pipeline in the delivery worker). */
  constructor (collectors: readonly AnalyticsCollector[], log: Logger, elsewhere?: (collector: object) => number) {
    this.#slots = collectors.map((collector) =>
      new CollectorSlot(collector, log.child({ plugin: 'analytics', collector: collector.name }) as Logger, elsewhere))
  }

  /** Hands one event to every collector. Never throws, never awaits. */
  publish (event: AnalyticsEvent): void {
    const slots = this.#slots
    for (let i = 0; i < slots.length; i++) slots[i].deliver(event)
    // The request is valid only during collect(): drop our reference so nothing retains it through the event.
    event.request = undefined
    forgetEventJSON()
  }

  async start (timeoutMs: number): Promise<void> {
    const controller = new AbortController()
    const timer = deadline(controller, timeoutMs, `timed out after ${timeoutMs} ms`)
    try {
      const results = await Promise.all(this.#slots.map((slot) =>
        slot.call('start', controller.signal, { log: slot.log })))
      for (let i = 0; i < results.length; i++) {
        const result = results[i]
        if (result === undefined) continue
        const reason = result === 'aborted' ? `start() did not finish within startTimeoutMs (${timeoutMs} ms)` : errorText(result)
        const error = new FST_ANALYTICS_START_FAILED(this.#slots[i].name, reason)
        if (result !== 'aborted') error.cause = result
        throw error
      }
    } finally {
      clearTimeout(timer)
    }
  }

  /** Flushes every collector in parallel; resolves at the deadline whatever they do. */
  async flush (timeoutMs: number): Promise<void> {
    const controller = new AbortController()
    const timer = deadline(controller, timeoutMs, `flush deadline of ${timeoutMs} ms reached`)
    try {
      await Promise.all(this.#slots.map(async (slot) => this.#report(slot, 'flush', await slot.call('flush', controller.signal))))
    } finally {
      clearTimeout(timer)
    }
  }

  /** flush then close every collector in parallel, all within one deadline. Idempotent. */
  close (timeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(timeoutMs)
    return this.#closing
  }

  async #close (timeoutMs: number): Promise<void> {
    const controller = new AbortController()
    const timer = deadline(controller, timeoutMs, `shutdown deadline of ${timeoutMs} ms reached`)
    const signal = controller.signal
    try {
      await Promise.all(this.#slots.map(async (slot) => {
        this.#report(slot, 'flush', await slot.call('flush', signal))
        slot.markClosed()
        this.#report(slot, 'close', await slot.call('close', signal))
      }))
    } finally {
      clearTimeout(timer)
    }
    for (const slot of this.#slots) {
      slot.markClosed()
      slot.finalize()
      const stats = slot.stats()
      const lost = totalDropped(stats.dropped)
      const line = { accepted: stats.accepted, delivered: stats.delivered, dropped: stats.dropped, retries: stats.retries, unaccounted: stats.queued + stats.inFlight }
      if (lost > 0 || line.unaccounted > 0) slot.log.warn(line, 'analytics collector closed with dropped events')
      else slot.log.info(line, 'analytics collector closed')
    }
  }

  #report (slot: CollectorSlot, member: Member, result: unknown): void {
    if (result === undefined) return
    if (result === 'aborted') slot.log.warn({ member }, `analytics collector ${member}() did not finish before the deadline`)
    else slot.log.error({ err: result, member }, `analytics collector ${member}() failed`)
  }

  stats (): Record<string, CollectorStats> {
    const result: Record<string, CollectorStats> = {}
    for (const slot of this.#slots) result[slot.name] = slot.stats()
    return result
  }
}
