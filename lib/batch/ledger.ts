import { DROP_REASONS, emptyDropCounts, totalDropped, type DeliveryReport, type DropReason } from '../collector.js'

let observer: ((beforeRequest: boolean) => void) | undefined

/**
 * Calls `callback` after every change to any ledger of this thread. The delivery worker uses it to
 * publish its stats snapshot when delivery state changes rather than on a timer, so stats() on the
 * request thread is current; a worker thread's ledgers all belong to its own collectors. Unset on
 * the request thread, where stats() reads the ledgers directly. `beforeRequest` is true when events
 * were just taken for a request not yet sent: publishing then, before any byte leaves, means a
 * destination can never hold a batch that stats() still shows as queued.
 */
export function observeLedgers (callback: ((beforeRequest: boolean) => void) | undefined): void {
  observer = callback
}

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

  /** An item the engine was given, whether it queues or drops it. */
  receive (): void {
    this.received++
    observer?.(false)
  }

  /** Items refused before the queue (`invalid`, `closed`, `queueFull`…): received and dropped at once. */
  refuse (reason: DropReason, count = 1): void {
    if (!Number.isSafeInteger(count) || count <= 0) return
    this.received += count
    this.dropped[DROP_REASONS.includes(reason) ? reason : 'invalid'] += count
    observer?.(false)
  }

  /** Events that left the queue for a request. */
  take (count: number): void {
    this.inFlight += count
    observer?.(true)
  }

  /** A request sent again. */
  retry (): void {
    this.retries++
    observer?.(false)
  }

  /** Events that left flight: `delivered` of them delivered, `dropped` of them dropped for `reason`. */
  settle (delivered: number, reason: DropReason, dropped: number): void {
    this.inFlight -= delivered + dropped
    this.delivered += delivered
    this.dropped[reason] += dropped
    observer?.(false)
  }

  /** At the shutdown deadline: the queued and in-flight events become `shutdown`. Returns how many. */
  abandon (queued: number): number {
    const count = queued + this.inFlight
    this.dropped.shutdown += count
    this.inFlight = 0
    observer?.(false)
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
