import type { DestinationStream } from 'pino'
import type { DeliveryReport } from '../../collector.js'
import { Ledger, type LedgerObserver } from '../../batch/ledger.js'
import type { RateLimitedLog } from '../../log.js'
import { errorText } from '../../util.js'

// Each flush round writes at least one chunk: this bounds a flush whatever the app keeps writing.
const MAX_FLUSH_ROUNDS = 1000

/** A stream the app passed as `destination`: pino's DestinationStream, with what Node streams and sonic-boom add. */
export type AppStream = DestinationStream & {
  flush?: (cb?: (err?: Error | null) => void) => void
  on?: (event: string, listener: (error: unknown) => void) => unknown
  off?: (event: string, listener: (error: unknown) => void) => unknown
  writableLength?: number
  _len?: number
}

/**
 * Lines to a stream the app owns. The collector cannot see which bytes such a stream passes on, so
 * a line counts as delivered when the stream took it without throwing; after the stream emits
 * 'error' (handled here: an unhandled one would kill the process) every line counts `failed`; a
 * Node stream whose buffer (`writableLength`) is past `maxQueueBytes` gets no more lines
 * (`queueFull`) until it drains. The stream is flushed, never closed.
 */
export class StreamWriter<E> {
  readonly #stream: AppStream
  readonly #send: (event: E) => void
  readonly #maxQueueBytes: number
  readonly #log: () => RateLimitedLog
  readonly #ledger = new Ledger()
  #broken: string | undefined = undefined
  #closed = false

  constructor (stream: AppStream, send: (event: E) => void, maxQueueBytes: number, log: () => RateLimitedLog) {
    this.#stream = stream
    this.#send = send
    this.#maxQueueBytes = maxQueueBytes
    this.#log = log
  }

  /** Listens for the stream's errors; `onStatsChange` is told of every change to the figures (CollectorContext). */
  open (onStatsChange?: LedgerObserver): void {
    if (typeof onStatsChange === 'function') this.#ledger.observer = onStatsChange
    if (typeof this.#stream.on === 'function') this.#stream.on('error', this.#onError)
  }

  readonly #onError = (error: unknown): void => {
    const code = (error as { code?: unknown } | null)?.code
    this.#broken = typeof code === 'string' ? code : 'error'
    this.#log().error('stream-error', { code: this.#broken, error: errorText(error) }, 'analytics stdout destination stream failed; lines are counted failed from now on')
  }

  write (event: E): void {
    const ledger = this.#ledger
    if (this.#closed) {
      ledger.refuse('closed')
      return
    }
    if (this.#broken !== undefined) {
      ledger.refuse('failed')
      return
    }
    const backlog = this.#stream.writableLength
    if (typeof backlog === 'number' && backlog > this.#maxQueueBytes) {
      ledger.refuse('queueFull')
      this.#log().warn('queueFull', { maxQueueBytes: this.#maxQueueBytes }, 'analytics stdout destination stream is behind (its buffer passed maxQueueBytes); dropping lines')
      return
    }
    ledger.receive()
    ledger.take(1)
    try {
      this.#send(event)
    } catch (error) {
      ledger.settle(0, 'failed', 1)
      this.#log().error('stream-write', { error: errorText(error) }, 'analytics stdout destination stream threw; line dropped (counted failed)')
      return
    }
    ledger.settle(1, 'failed', 0)
  }

  async flush (signal?: AbortSignal): Promise<void> {
    // sonic-boom calls back on 'drain', which fires once it is back under its high-water mark, not
    // when empty: flush until its buffered length (`_len`, no public equivalent) is zero.
    for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
      await this.#flushOnce()
      if (!((this.#stream._len ?? 0) > 0) || signal?.aborted === true || this.#broken !== undefined) return
    }
  }

  async close (signal?: AbortSignal): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.flush(signal)
    if (typeof this.#stream.off === 'function') this.#stream.off('error', this.#onError)
  }

  stats (): DeliveryReport {
    return this.#ledger.report(0)
  }

  #flushOnce (): Promise<void> {
    return new Promise((resolve) => {
      if (typeof this.#stream.flush !== 'function') { resolve(); return }
      try {
        // The error (sonic-boom "not ready" before its first write, fsync on a pipe) changes nothing here.
        this.#stream.flush(() => resolve())
      } catch {
        resolve()
      }
    })
  }
}
