import { DROP_REASONS, emptyDropCounts, type DeliveryReport, type DropCounts } from '../collector.js'
import { crawlerBlockLength } from '../crawlers/tally.js'

// The worker publishes each collector's figures into shared memory so that stats() on the request
// thread stays synchronous, and so the figures outlive a worker that dies (a crash is then counted
// exactly from the last snapshot). One writer (the worker), a sequence lock for consistency: a reader
// that sees the same even sequence before and after copying has a snapshot of one moment.

/**
 * Per collector: events received by the worker, events its pipeline built for the collector, then
 * the fields of a DeliveryReport.
 */
const FIELDS = ['received', 'built', 'delivered', 'retries', 'queued', 'inFlight', ...DROP_REASONS] as const
const STRIDE = FIELDS.length
const RECEIVED = 0
const BUILT = 1
const DELIVERED = 2
const RETRIES = 3
const QUEUED = 4
const IN_FLIGHT = 5
const DROPS = 6
/** Before the per-collector figures: the count of wire entries the worker has taken off the channel. */
const HEADER = 1
// The sequence word lives in its own 8 bytes ahead of the Float64 figures.
const SEQ_BYTES = 8
// A reader racing a writer retries; the writer holds the lock for microseconds, so a few tries do.
const MAX_READ_TRIES = 64

export interface CollectorFigures extends DeliveryReport {
  /** Events the worker took off the channel for this collector. */
  received: number
  /** Events the worker's own pipeline built from captures and handed to this collector. */
  built: number
  dropped: DropCounts
}

/**
 * After the collectors, the worker's pipeline (when it runs there): captures taken off the channel,
 * its event counters and its visit figures.
 */
export const PIPELINE_FIGURES = ['captures', 'emitted', 'truncated', 'prefetch', 'bot', 'spam', 'consent', 'consentDenied', 'visitors', 'evictions', 'fallbacks'] as const
export type PipelineFigures = Record<typeof PIPELINE_FIGURES[number], number>

/** Then the pipeline's crawler counts (lib/crawlers/tally.ts): a flat block, copied as it is. */
export function createSnapshotBuffer (collectors: number): SharedArrayBuffer {
  return new SharedArrayBuffer(SEQ_BYTES + (HEADER + collectors * STRIDE + PIPELINE_FIGURES.length + crawlerBlockLength()) * Float64Array.BYTES_PER_ELEMENT)
}

/** The worker's side: fill `figures` then `publish()`. */
export class SnapshotWriter {
  readonly #seq: Int32Array
  readonly #data: Float64Array

  constructor (buffer: SharedArrayBuffer) {
    this.#seq = new Int32Array(buffer, 0, 1)
    this.#data = new Float64Array(buffer, SEQ_BYTES)
  }

  publish (entries: number, figures: readonly CollectorFigures[], pipeline: PipelineFigures | undefined, crawlers?: Float64Array): void {
    const data = this.#data
    Atomics.add(this.#seq, 0, 1)
    data[0] = entries
    for (let i = 0; i < figures.length; i++) {
      const f = figures[i]
      const at = HEADER + i * STRIDE
      data[at + RECEIVED] = f.received
      data[at + BUILT] = f.built
      data[at + DELIVERED] = f.delivered
      data[at + RETRIES] = f.retries
      data[at + QUEUED] = f.queued
      data[at + IN_FLIGHT] = f.inFlight
      for (let r = 0; r < DROP_REASONS.length; r++) data[at + DROPS + r] = f.dropped[DROP_REASONS[r]]
    }
    if (pipeline !== undefined) {
      const at = HEADER + figures.length * STRIDE
      for (let k = 0; k < PIPELINE_FIGURES.length; k++) data[at + k] = pipeline[PIPELINE_FIGURES[k]]
      if (crawlers !== undefined) data.set(crawlers, at + PIPELINE_FIGURES.length)
    }
    Atomics.add(this.#seq, 0, 1)
  }
}

/** The request thread's side: consistent copies of the last published snapshot. */
export class SnapshotReader {
  readonly #seq: Int32Array
  readonly #data: Float64Array
  #last: Float64Array

  constructor (buffer: SharedArrayBuffer) {
    this.#seq = new Int32Array(buffer, 0, 1)
    this.#data = new Float64Array(buffer, SEQ_BYTES)
    this.#last = new Float64Array(this.#data.length)
  }

  /** A copy of one moment; the previous copy if the writer kept the lock through every try. */
  read (): Float64Array {
    for (let i = 0; i < MAX_READ_TRIES; i++) {
      const before = Atomics.load(this.#seq, 0)
      if ((before & 1) === 1) continue
      const copy = this.#data.slice()
      if (Atomics.load(this.#seq, 0) === before) {
        this.#last = copy
        return copy
      }
    }
    return this.#last
  }
}

/** Entries the worker has taken off the channel, from a copy. */
export function entriesReceived (copy: Float64Array): number {
  return copy[0]
}

/** One collector's figures from a copy. */
export function figuresOf (copy: Float64Array, index: number): CollectorFigures {
  const at = HEADER + index * STRIDE
  const dropped = emptyDropCounts()
  for (let r = 0; r < DROP_REASONS.length; r++) dropped[DROP_REASONS[r]] = copy[at + DROPS + r]
  return {
    received: copy[at + RECEIVED],
    built: copy[at + BUILT],
    delivered: copy[at + DELIVERED],
    retries: copy[at + RETRIES],
    queued: copy[at + QUEUED],
    inFlight: copy[at + IN_FLIGHT],
    dropped
  }
}

/** The pipeline's figures from a copy; `collectors`: how many collectors the snapshot has. */
export function pipelineFiguresOf (copy: Float64Array, collectors: number): PipelineFigures {
  const at = HEADER + collectors * STRIDE
  const figures = {} as PipelineFigures
  for (let k = 0; k < PIPELINE_FIGURES.length; k++) figures[PIPELINE_FIGURES[k]] = copy[at + k]
  return figures
}

/** The pipeline's crawler counts from a copy (a view into it: copy it to keep it). */
export function crawlerFiguresOf (copy: Float64Array, collectors: number): Float64Array {
  const at = HEADER + collectors * STRIDE + PIPELINE_FIGURES.length
  return copy.subarray(at, at + crawlerBlockLength())
}

export function zeroPipelineFigures (): PipelineFigures {
  const figures = {} as PipelineFigures
  for (const name of PIPELINE_FIGURES) figures[name] = 0
  return figures
}

export function zeroFigures (): CollectorFigures {
  return { received: 0, built: 0, delivered: 0, retries: 0, queued: 0, inFlight: 0, dropped: emptyDropCounts() }
}
