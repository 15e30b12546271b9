import { DROP_REASONS, emptyDropCounts, totalDropped, type DeliveryReport, type DropReason } from '../collector.js'

/**
 * Called after every change to a ledger's figures. `beforeRequest` is true when events were just
 * taken for a request not yet sent: a snapshot published then, before any byte leaves, means a
 * destination can never hold a batch that stats() still shows as queued.
 */
export type LedgerObserver = (beforeRequest: boolean) => void

/**
 * The delivery engine's accounting, in one owner. Every item the engine is given is `received`
 * once and, at any moment, is in exactly one place: received = delivered + Σ dropped + queued +
 * inFlight. The queue's length is the engine's, so `balance(queued)` takes it as an argument.
 */
export class Ledger {
  received = 0
  delivered = 0
  retries = 0
  /** Events taken from the queue whose requests are not settled yet. */
  inFlight = 0
  readonly dropped = emptyDropCounts()
  /** The collector's `onStatsChange` (see CollectorContext), when it was given one at start. */
  observer: LedgerObserver | undefined = undefined

  /** An item the engine was given, whether it queues or drops it. */
  receive (): void {
    this.received++
    this.observer?.(false)
  }

  /** Items refused before the queue (`invalid`, `closed`, `queueFull`…): received and dropped at once. */
  refuse (reason: DropReason, count = 1): void {
    if (!Number.isSafeInteger(count) || count <= 0) return
    this.received += count
    this.dropped[DROP_REASONS.includes(reason) ? reason : 'invalid'] += count
    this.observer?.(false)
  }

  /** Events that left the queue for a request. */
  take (count: number): void {
    this.inFlight += count
    this.observer?.(true)
  }

  /** A request sent again. */
  retry (): void {
    this.retries++
    this.observer?.(false)
  }

  /** Events that left flight: `delivered` of them delivered, `dropped` of them dropped for `reason`. */
  settle (delivered: number, reason: DropReason, dropped: number): void {
    this.inFlight -= delivered + dropped
    this.delivered += delivered
    this.dropped[reason] += dropped
    this.observer?.(false)
  }

  /** At the shutdown deadline: the queued and in-flight events become `shutdown`. Returns how many. */
  abandon (queued: number): number {
    const count = queued + this.inFlight
    this.dropped.shutdown += count
    this.inFlight = 0
    this.observer?.(false)
    return count
  }

  /** received − (delivered + Σ dropped + queued + inFlight): zero unless the engine lost or doubled an event. */
  balance (queued: number): number {
    return this.received - (this.delivered + totalDropped(this.dropped) + queued + this.inFlight)
  }

  /** The invariant: the balance is zero and no figure went negative (an event settled twice). */
  balanced (queued: number): boolean {
    return this.balance(queued) === 0 && this.inFlight >= 0 && queued >= 0
  }

  report (queued: number): DeliveryReport {
    return {
      delivered: this.delivered,
      dropped: { ...this.dropped },
      retries: this.retries,
      queued,
      inFlight: this.inFlight
    }
  }
}
