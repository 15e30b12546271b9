import { Worker } from 'node:worker_threads'
import type { AnalyticsCollector, CollectorContext, DeliveryReport } from '../collector.js'
import { DROP_REASONS } from '../collector.js'
import type { AnalyticsEvent } from '../event.js'
import { DEFAULT_MAX_QUEUE_BYTES } from '../batch/settings.js'
import { RateLimitedLog, type Logger } from '../log.js'
import { errorText } from '../util.js'
import { encodeEvent, wireBytes, type WireEvent, type WireValue } from './codec.js'
import { FROM_SOURCE, libPath } from '../location.js'
import { PIPELINE_ENTRY, type FromWorker, type Member, type SerializedError, type ToWorker, type WorkerInit } from './protocol.js'
import { addCrawlerBlock, emptyCrawlerBlock } from '../crawlers/tally.js'
import { crawlerFiguresOf, createSnapshotBuffer, entriesReceived, figuresOf, PIPELINE_FIGURES, pipelineFiguresOf, SnapshotReader, zeroFigures, zeroPipelineFigures, type CollectorFigures, type PipelineFigures } from './snapshot.js'

/** Events handed over but not yet taken by the worker; beyond it new events are dropped as `queueFull`. */
export const MAX_CHANNEL_EVENTS = 20_000
/**
 * Bytes (string lengths, as the engine counts them) of events handed over but not yet taken by the
 * worker; beyond it new events are dropped as `queueFull`. The event bound alone let 1 MB events
 * pile up in the worker's message queue (1.6 GB of RSS for 1 000 of them against a dead destination).
 * The engine's default queue bytes: room for MAX_CHANNEL_EVENTS events of 1.6 KiB, and the worker
 * takes events at once, so this binds only when its thread is busy or the events are large. Cost:
 * at most this much of strings copied on each side of the channel.
 */
export const MAX_CHANNEL_BYTES = DEFAULT_MAX_QUEUE_BYTES
/** Events per postMessage: measured at ≈1 µs/event from 64 up (docs: bench/README.md). */
const MAX_BATCH_EVENTS = 256
/**
 * How long entries gather before a hand-over (unless a batch fills first), adapted to the traffic:
 * a hand-over costs the request thread about the same whatever it carries (a timer, a
 * postMessage, a wake-up of the worker), so at low rates the delay grows until each carries at
 * least HANDOVER_TARGET_ENTRIES, and at high rates batches fill first. One postMessage per
 * event-loop turn meant one per request at moderate rates: at 2 000 req/s a 1 ms hand-over cost
 * the request thread 20 µs more per request than a 50 ms one (issue 22's measurements).
 * Bounded: an entry reaches the worker within MAX_HANDOVER_DELAY_MS; flush() and close() hand over at once.
 */
const MIN_HANDOVER_DELAY_MS = 5
const MAX_HANDOVER_DELAY_MS = 50
const HANDOVER_TARGET_ENTRIES = 32
/**
 * Bytes (string lengths) after which a batch goes at once, whatever its count: 256 entries of normal
 * events are ~400 kB, but of the largest events the caps allow 18 MB, and a message that size is
 * held three times over (the batch, its serialised copy, the worker's) while it crosses. Measured
 * (test/batch/flood.test.ts): 6 000 such events grew RSS by 541 MB with 50 ms hand-overs unbounded in
 * bytes, 276 MB with 5 ms ones.
 */
const HANDOVER_MAX_BYTES = 1 << 20
/** A collector's bit in an event's mask: a mask is a 31-bit small integer. */
export const MAX_WORKER_COLLECTORS = 31
/** Restarts of a crashed worker within RESTART_WINDOW_MS before its collectors are given up. */
const MAX_RESTARTS = 3
const RESTART_WINDOW_MS = 60_000
/** The delivery worker's young-generation cap (V8 semi-spaces), in MB: see #spawn. */
const WORKER_YOUNG_GENERATION_MB = 8

/** How long a restarted worker's collectors get to start again. */
const RESTART_START_TIMEOUT_MS = 10_000

// Under tap the sources run as TypeScript through a loader the worker must inherit; the published
// build runs plain JS, where an empty execArgv keeps APM preloads (--require/--import) out of the worker.
const WORKER_FILE = libPath('worker/worker.js')

// accept()'s verdicts for an event that is not in the batch.
const FULL = -1
const DEAD = -2
const UNENCODABLE = -3

interface Generation {
  worker: Worker
  reader: SnapshotReader
  /** Per collector: events handed to this worker (including the batch not yet posted). */
  posted: number[]
  entriesPosted: number
  /** Entries the worker had taken at the last look; refreshed only near the bound. */
  entriesTaken: number
  /** Bytes of the entries posted, and of the posted batches the worker has taken whole. */
  bytesPosted: number
  bytesTaken: number
  /** Per posted batch, pending: the entries and bytes posted up to its end (entries, bytes, …). */
  marks: number[]
  calls: Map<number, (error: SerializedError | Error | undefined) => void>
  /** Captures handed to this worker's pipeline (including the batch not yet posted). */
  captures: number
  /** Its end is accounted for: a later 'exit' changes nothing. */
  ended: boolean
}

function asError (error: SerializedError | Error): Error {
  if (error instanceof Error) return error
  const result = new Error(error.message)
  result.name = error.name
  if (error.code !== undefined) (result as Error & { code?: string }).code = error.code
  return result
}

/**
 * The request thread's side of worker delivery: encodes each event once, batches the wire events
 * into postMessage calls within a bound, runs the collectors' lifecycle in the worker, accounts
 * for every event from the worker's shared snapshot, and restarts (or gives up on) a worker that
 * dies, counting what it held as `failed`.
 */
export class WorkerHost {
  readonly #init: Omit<WorkerInit, 'snapshot'>
  readonly #names: readonly string[]
  readonly #log: Logger
  readonly #logs: Logger[]
  readonly #limited: RateLimitedLog[]
  readonly #base: CollectorFigures[]
  /** Per collector: events of the worker's pipeline from workers that have ended, and captures they never took. */
  readonly #builtBase: number[]
  /** The worker's pipeline's figures from workers that have ended. */
  readonly #pipelineBase: PipelineFigures = zeroPipelineFigures()
  /** The crawler counts of the worker's pipeline from workers that have ended. */
  readonly #crawlerBase = emptyCrawlerBlock()
  readonly #queueFull: number[]
  /** Events refused because the worker is gone for good. */
  readonly #lost: number[]
  readonly #started: boolean[]
  #gen: Generation | undefined
  #batch: Array<WireEvent | number> = []
  #batchBytes = 0
  #scheduled = false
  #delayMs = MIN_HANDOVER_DELAY_MS
  #last: unknown
  #lastAt = DEAD
  #encodeError: unknown
  #nextId = 0
  #restarts: number[] = []
  #dead = false
  #closing = false
  #closed = 0

  constructor (collectors: WorkerInit['collectors'], names: readonly string[], log: Logger, pipeline?: WorkerInit['pipeline']) {
    this.#init = pipeline === undefined ? { collectors } : { collectors, pipeline }
    this.#names = names
    this.#log = log
    this.#logs = names.map((collector) => log.child({ collector }) as Logger)
    this.#limited = this.#logs.map((child) => new RateLimitedLog(child))
    this.#base = names.map(zeroFigures)
    this.#builtBase = names.map(() => 0)
    this.#queueFull = names.map(() => 0)
    this.#lost = names.map(() => 0)
    this.#started = names.map(() => false)
  }

  /** Starts the worker thread now rather than at the first event or start(). */
  spawn (): void {
    if (this.#gen === undefined && !this.#dead && !this.#closing) this.#spawn()
  }

  /** The stand-in the fan-out calls for collector `index`. */
  /** `wants`: the `events` filter of the collector it stands for (the real one in the worker has its own copy). */
  collector (index: number, requestHeaders: readonly string[] | undefined, wants?: (event: Readonly<AnalyticsEvent>) => boolean): AnalyticsCollector {
    return new WorkerCollector(this, index, this.#names[index], requestHeaders, wants)
  }

  accept (index: number, event: Readonly<AnalyticsEvent>): void {
    // The fan-out calls every collector with the same event in turn: encode it once, for the first.
    if (event !== this.#last) {
      this.#last = event
      this.#lastAt = this.#append(event)
    }
    const at = this.#lastAt
    if (at >= 0) {
      (this.#batch[at] as number) |= 1 << index
      ;(this.#gen as Generation).posted[index]++
    } else if (at === FULL) {
      this.#queueFull[index]++
      this.#limited[index].warn('channel', { maxChannelEvents: MAX_CHANNEL_EVENTS }, 'analytics delivery worker is behind: the channel to it is full; dropping events')
    } else if (at === DEAD) {
      this.#lost[index]++
    } else {
      throw this.#encodeError
    }
  }

  /**
   * Hands a request's capture (or a tracked event with its request's facts) to the worker's
   * pipeline. Beyond the channel's bounds, or with the worker gone, it is counted against every
   * collector as accepted and dropped (`queueFull`, `failed`): the event it would have been is never
   * lost silently.
   */
  capture (wire: WireValue[]): void {
    const at = this.#appendWire(wire)
    if (at >= 0) {
      this.#batch[at] = PIPELINE_ENTRY
      ;(this.#gen as Generation).captures++
      return
    }
    for (let index = 0; index < this.#names.length; index++) {
      this.#builtBase[index]++
      if (at === FULL) {
        this.#queueFull[index]++
        this.#limited[index].warn('channel', { maxChannelEvents: MAX_CHANNEL_EVENTS }, 'analytics delivery worker is behind: the channel to it is full; dropping events')
      } else {
        this.#lost[index]++
      }
    }
  }

  /** The batch position of the event's mask, or why it is not in the batch. */
  #append (event: Readonly<AnalyticsEvent>): number {
    let wire: WireEvent
    try {
      wire = encodeEvent(event)
    } catch (error) {
      this.#encodeError = error
      return UNENCODABLE
    }
    return this.#appendWire(wire)
  }

  /** The batch position of the entry's mask, or why it is not in the batch. */
  #appendWire (wire: WireValue[]): number {
    if (this.#dead || this.#closing) return DEAD
    const gen = this.#gen ?? this.#spawn()
    const pending = this.#batch.length / 2
    if (gen.entriesPosted + pending - gen.entriesTaken >= MAX_CHANNEL_EVENTS) {
      // Reading the snapshot copies it: only near the bound.
      this.#refreshTaken(gen)
      if (gen.entriesPosted + pending - gen.entriesTaken >= MAX_CHANNEL_EVENTS) return FULL
    }
    const bytes = wireBytes(wire)
    if (gen.bytesPosted - gen.bytesTaken + this.#batchBytes + bytes > MAX_CHANNEL_BYTES) {
      this.#refreshTaken(gen)
      if (gen.bytesPosted - gen.bytesTaken + this.#batchBytes + bytes > MAX_CHANNEL_BYTES) return FULL
    }
    // A full batch goes first: this event opens the next one, and its bytes are that batch's.
    if (pending >= MAX_BATCH_EVENTS || this.#batchBytes >= HANDOVER_MAX_BYTES) {
      this.#delayMs = MIN_HANDOVER_DELAY_MS
      this.#post()
    }
    this.#batchBytes += bytes
    this.#batch.push(wire, 0)
    if (!this.#scheduled) {
      this.#scheduled = true
      // unref(): like the engine's flush timer, it must not keep the app alive; flush() and close() hand over first.
      setTimeout(this.#onTurn, this.#delayMs).unref()
    }
    return this.#batch.length - 1
  }

  /** Reads how far the worker got (the snapshot copy costs: only near a bound) and releases the bytes of the batches it took whole. */
  #refreshTaken (gen: Generation): void {
    gen.entriesTaken = entriesReceived(gen.reader.read())
    const marks = gen.marks
    let done = 0
    while (done < marks.length && marks[done] <= gen.entriesTaken) {
      gen.bytesTaken = marks[done + 1]
      done += 2
    }
    if (done > 0) marks.splice(0, done)
  }

  // One postMessage per delay (or per full batch); a timer runs between turns, so never in the
  // middle of one event's fan-out.
  readonly #onTurn = (): void => {
    this.#scheduled = false
    const entries = this.#batch.length / 2
    // Too few entries per hand-over: wait longer next time; plenty: shorten towards the minimum.
    if (entries < HANDOVER_TARGET_ENTRIES) this.#delayMs = Math.min(this.#delayMs * 2, MAX_HANDOVER_DELAY_MS)
    else if (entries >= 4 * HANDOVER_TARGET_ENTRIES) this.#delayMs = Math.max(this.#delayMs / 2, MIN_HANDOVER_DELAY_MS)
    this.#post()
  }

  #post (): void {
    this.#last = undefined
    const gen = this.#gen
    const entries = this.#batch
    if (gen === undefined || entries.length === 0) return
    const bytes = this.#batchBytes
    this.#batch = []
    this.#batchBytes = 0
    try {
      gen.worker.postMessage({ t: 'events', entries } satisfies ToWorker)
      gen.entriesPosted += entries.length / 2
      gen.bytesPosted += bytes
      gen.marks.push(gen.entriesPosted, gen.bytesPosted)
    } catch (error) {
      // Cannot happen with eventToJSON's plain data; if it does, the events are counted, not lost.
      for (let i = 1; i < entries.length; i += 2) {
        const mask = entries[i] as number
        if (mask === PIPELINE_ENTRY) gen.captures--
        for (let c = 0; c < this.#names.length; c++) {
          if (mask === PIPELINE_ENTRY) {
            this.#builtBase[c]++
            this.#lost[c]++
            continue
          }
          if ((mask & (1 << c)) === 0) continue
          gen.posted[c]--
          this.#lost[c]++
        }
      }
      this.#log.error({ err: error }, 'analytics events could not be handed to the delivery worker; counted failed')
    }
  }

  #spawn (): Generation {
    const snapshot = createSnapshotBuffer(this.#names.length)
    const worker = new Worker(WORKER_FILE, {
      workerData: { ...this.#init, snapshot } satisfies WorkerInit,
      execArgv: FROM_SOURCE ? process.execArgv : [],
      // V8's default young generation grows to tens of MB in a busy worker. Capped, 20 000 requests
      // with four collectors peaked at 274–277 MB RSS against inline's 281–289 (uncapped: 314–343),
      // with CPU per request within the run's noise. The worker's objects are short-lived batches.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB }
    })
    // Delivery must never keep the app alive: the lifecycle deadlines (not unref()ed) hold it while it matters.
    worker.unref()
    const gen: Generation = {
      worker,
      reader: new SnapshotReader(snapshot),
      posted: this.#names.map(() => 0),
      entriesPosted: 0,
      entriesTaken: 0,
      bytesPosted: 0,
      bytesTaken: 0,
      marks: [],
      calls: new Map(),
      captures: 0,
      ended: false
    }
    worker.on('message', (message: FromWorker) => this.#onMessage(gen, message))
    // Without an 'error' listener a worker's uncaught exception would be rethrown in the app.
    worker.on('error', (error) => this.#log.error({ err: error }, 'analytics delivery worker crashed'))
    worker.on('exit', (code) => this.#onExit(gen, code))
    this.#gen = gen
    return gen
  }

  #onMessage (gen: Generation, message: FromWorker): void {
    if (message.t === 'done') {
      const settle = gen.calls.get(message.id)
      gen.calls.delete(message.id)
      settle?.(message.error)
      return
    }
    const base = this.#logs[message.index] ?? this.#log
    const log = Object.keys(message.bindings).length > 0 ? base.child(message.bindings) as Logger : base
    log[message.level](message.fields as object, message.message)
  }

  #onExit (gen: Generation, code: number): void {
    if (gen.ended) return
    this.#end(gen, 'failed')
    for (const settle of gen.calls.values()) settle(new Error(`the analytics delivery worker stopped (exit code ${code})`))
    gen.calls.clear()
    if (this.#closing) return
    const now = Date.now()
    this.#restarts = this.#restarts.filter((at) => now - at < RESTART_WINDOW_MS)
    if (this.#restarts.length >= MAX_RESTARTS) {
      this.#dead = true
      this.#log.error({ exitCode: code, restarts: this.#restarts.length }, 'analytics delivery worker stopped again and is not restarted: its collectors\' events are counted failed from now on')
      return
    }
    this.#restarts.push(now)
    this.#log.error({ exitCode: code }, 'analytics delivery worker stopped unexpectedly: the events it held are counted failed; restarting it')
    for (let index = 0; index < this.#names.length; index++) {
      if (!this.#started[index]) continue
      this.call(index, 'start', AbortSignal.timeout(RESTART_START_TIMEOUT_MS)).catch((error: unknown) => {
        this.#logs[index].error({ err: error }, 'analytics collector failed to start again in the restarted delivery worker')
      })
    }
  }

  /**
   * Folds a generation's figures into the base and counts what it still held as `reason`: from its
   * last snapshot, so every event is counted once, whether the worker got to report it or not.
   */
  #end (gen: Generation, reason: 'failed' | 'shutdown'): void {
    gen.ended = true
    if (this.#gen !== gen) return
    this.#gen = undefined
    const copy = gen.reader.read()
    const pipeline = pipelineFiguresOf(copy, this.#names.length)
    // Captures the worker never took: the events they would have been count against every collector.
    const untaken = gen.captures - pipeline.captures
    for (const name of PIPELINE_FIGURES) {
      // The visit figures describe the live store: a new worker starts with none.
      if (name !== 'visitors') this.#pipelineBase[name] += pipeline[name]
    }
    addCrawlerBlock(this.#crawlerBase, crawlerFiguresOf(copy, this.#names.length))
    for (let i = 0; i < this.#names.length; i++) {
      const f = figuresOf(copy, i)
      const base = this.#base[i]
      base.delivered += f.delivered
      base.retries += f.retries
      this.#builtBase[i] += f.built + untaken
      for (const r of DROP_REASONS) base.dropped[r] += f.dropped[r]
      base.dropped[reason] += gen.posted[i] - f.received + f.queued + f.inFlight + untaken
    }
    this.#batch = []
    this.#batchBytes = 0
    this.#last = undefined
  }

  /** Runs a lifecycle member of collector `index` in the worker; rejects with its error. */
  async call (index: number, member: Member, signal: AbortSignal): Promise<void> {
    if (member === 'start') this.#started[index] = true
    if (this.#dead) {
      if (member === 'start') throw new Error('the analytics delivery worker is not running')
      return
    }
    // Nothing was ever handed over: there is nothing to flush or close in a worker.
    if (member !== 'start' && this.#gen === undefined) return
    this.#post()
    const gen = this.#gen ?? this.#spawn()
    const id = ++this.#nextId
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { gen.worker.postMessage({ t: 'abort', id } satisfies ToWorker) }
      signal.addEventListener('abort', onAbort, { once: true })
      gen.calls.set(id, (error) => {
        signal.removeEventListener('abort', onAbort)
        if (error === undefined) resolve()
        else reject(asError(error))
      })
      gen.worker.postMessage({ t: 'call', id, index, member } satisfies ToWorker)
    })
  }

  async close (index: number, signal: AbortSignal): Promise<void> {
    this.#closing = true
    this.#post()
    const gen = this.#gen
    if (gen === undefined) return
    // At the deadline the fan-out reads stats() at once: count what the worker still holds as
    // `shutdown` now, in the abort listener, and stop the worker.
    const abandon = (): void => { this.#stop(gen, 'shutdown') }
    if (signal.aborted) { abandon(); return }
    signal.addEventListener('abort', abandon, { once: true })
    try {
      await this.call(index, 'close', signal)
    } finally {
      signal.removeEventListener('abort', abandon)
      if (++this.#closed === this.#names.length) this.#stop(gen, 'shutdown')
    }
  }

  #stop (gen: Generation, reason: 'shutdown'): void {
    if (gen.ended) return
    this.#end(gen, reason)
    for (const settle of gen.calls.values()) settle(undefined)
    gen.calls.clear()
    gen.worker.terminate().catch((error: unknown) => this.#log.error({ error: errorText(error) }, 'analytics delivery worker did not stop cleanly'))
  }

  report (index: number): DeliveryReport {
    const base = this.#base[index]
    const dropped = { ...base.dropped }
    dropped.queueFull += this.#queueFull[index]
    dropped.failed += this.#lost[index]
    let delivered = base.delivered
    let retries = base.retries
    let queued = 0
    let inFlight = 0
    const gen = this.#gen
    if (gen !== undefined) {
      const f = figuresOf(gen.reader.read(), index)
      delivered += f.delivered
      retries += f.retries
      for (const r of DROP_REASONS) dropped[r] += f.dropped[r]
      // Handed over but not yet taken by the worker: waiting, like a queue.
      queued = gen.posted[index] - f.received + f.queued
      inFlight = f.inFlight
    }
    return { delivered, dropped, retries, queued, inFlight }
  }

  /** Events collector `index` accepted in the worker: built there by its pipeline, or captures it never took. */
  acceptedInWorker (index: number): number {
    const gen = this.#gen
    let built = this.#builtBase[index]
    if (gen !== undefined) {
      const copy = gen.reader.read()
      built += figuresOf(copy, index).built + gen.captures - pipelineFiguresOf(copy, this.#names.length).captures
    }
    return built
  }

  /** The worker's pipeline's figures: counters summed over every worker, visits of the live one. */
  pipelineFigures (): PipelineFigures {
    const figures = { ...this.#pipelineBase }
    const gen = this.#gen
    if (gen === undefined) return figures
    const live = pipelineFiguresOf(gen.reader.read(), this.#names.length)
    for (const name of PIPELINE_FIGURES) figures[name] = name === 'visitors' ? live[name] : figures[name] + live[name]
    return figures
  }

  /** The worker's pipeline's crawler counts, summed over every worker. */
  crawlerFigures (): Float64Array {
    const block = this.#crawlerBase.slice()
    const gen = this.#gen
    if (gen !== undefined) addCrawlerBlock(block, crawlerFiguresOf(gen.reader.read(), this.#names.length))
    return block
  }

  setLog (index: number, log: Logger): void {
    this.#logs[index] = log
    this.#limited[index].log = log
  }
}

/** What the fan-out sees of a collector that runs in the worker: the same contract, by message. */
class WorkerCollector implements AnalyticsCollector {
  readonly name: string
  /** The headers the collector it stands for declared: the request thread captures them for it. */
  readonly requestHeaders: readonly string[] | undefined
  /** The fan-out asks it before an event is counted or handed over: an event not wanted never crosses. */
  readonly wants?: (event: Readonly<AnalyticsEvent>) => boolean
  readonly #host: WorkerHost
  readonly #index: number

  constructor (host: WorkerHost, index: number, name: string, requestHeaders: readonly string[] | undefined, wants?: (event: Readonly<AnalyticsEvent>) => boolean) {
    this.#host = host
    this.#index = index
    this.name = name
    this.requestHeaders = requestHeaders
    if (wants !== undefined) this.wants = wants
  }

  start (signal: AbortSignal, context: CollectorContext): Promise<void> {
    this.#host.setLog(this.#index, context.log)
    return this.#host.call(this.#index, 'start', signal)
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    this.#host.accept(this.#index, event)
  }

  flush (signal: AbortSignal): Promise<void> {
    return this.#host.call(this.#index, 'flush', signal)
  }

  close (signal: AbortSignal): Promise<void> {
    return this.#host.close(this.#index, signal)
  }

  stats (): DeliveryReport {
    return this.#host.report(this.#index)
  }
}
