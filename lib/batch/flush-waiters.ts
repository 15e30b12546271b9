import { onAbort } from './delivery.js'

interface Waiter {
  /** Resolved once every item numbered below this has been delivered or dropped. */
  target: number
  done: () => void
}

/**
 * The callers of `flush()` and `close()` waiting for the engine: a flush until every item enqueued
 * before it is delivered or dropped, a close until nothing is queued or in flight, each at the
 * latest when its signal fires. Never rejects. `changed` runs whenever a flush starts or stops
 * waiting (the engine keeps its timers referenced while any waits).
 */
export class FlushWaiters {
  readonly #waiters: Waiter[] = []
  #idle: (() => void) | undefined = undefined
  readonly #changed: () => void

  constructor (changed: () => void) {
    this.#changed = changed
  }

  /** Whether a flush is waiting. */
  get waiting (): boolean {
    return this.#waiters.length > 0
  }

  /** Waits until `wake` finds `target` flushed, or `signal` fires. */
  flush (target: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const stop = onAbort(signal, () => finish())
      const waiter: Waiter = { target, done: () => finish() }
      const finish = (): void => {
        stop()
        const index = this.#waiters.indexOf(waiter)
        if (index !== -1) this.#waiters.splice(index, 1)
        this.#changed()
        resolve()
      }
      this.#waiters.push(waiter)
      this.#changed()
    })
  }

  /** Waits until `wake` is told the engine is idle, or `signal` fires (one close at a time). */
  idle (signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const stop = onAbort(signal, () => finish())
      const finish = (): void => {
        stop()
        this.#idle = undefined
        resolve()
      }
      this.#idle = finish
    })
  }

  /** Resolves the flushes whose target `flushed` says is reached, and the close when `idle`. */
  wake (flushed: (target: number) => boolean, idle: boolean): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]
      if (flushed(waiter.target)) waiter.done()
    }
    if (this.#idle !== undefined && idle) this.#idle()
  }
}
