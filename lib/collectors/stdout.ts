import { createRequire } from 'node:module'
import type { DestinationStream, Level } from 'pino'
import type { LedgerObserver } from '../batch/ledger.js'
import { DEFAULT_MAX_QUEUE_BYTES } from '../batch/settings.js'
import type { AnalyticsCollector, CollectorContext, DeliveryReport } from '../collector.js'
import { RateLimitedLog, silentLogger } from '../log.js'
import { FdWriter } from './stdout/fd-writer.js'
import { StreamWriter, type AppStream } from './stdout/stream-writer.js'
import { eventToJSON, type AnalyticsEvent } from '../event.js'
import { eventJSONString } from '../event-json.js'
import { collectorIp, type IpPolicy } from '../privacy/index.js'
import { MAX_TIMER_MS } from '../util.js'
import { libPath } from '../location.js'
import { portableCollector } from './portable.js'
import { checkCollectorOptions, eventsFilter, EVERY_EVENT, ipPolicyOption, optionErrors, type CollectorEventsOption } from './options.js'

export interface StdoutCollectorOptions extends CollectorEventsOption {
  /**
   * Where lines go: a file descriptor (default 1, stdout), a file path, or a stream you own
   * (it is flushed, never closed, by the collector).
   */
  destination?: number | string | DestinationStream
  /** pino level of the lines. Default 'info'. */
  level?: Level
  /**
   * Lines are buffered up to this many bytes before a write (for a destination the collector
   * opens). Default {@link DEFAULT_BUFFER_BYTES}; 0 writes every line at once (one write per event: slow at high rates).
   */
  bufferBytes?: number
  /** A buffer that is not full is written at least this often, in ms. Default {@link DEFAULT_FLUSH_INTERVAL_MS}. */
  flushIntervalMs?: number
  /**
   * What of the visitor's IP the lines carry. Default `'truncate'` (its /24 or /48): log files are
   * kept, copied and shipped, and a full IP in them is personal data. `'full'` or `'none'` (empty).
   */
  ip?: IpPolicy
  /**
   * Bytes (a line counts its length) of lines waiting for a slow destination; a line that would pass
   * it is dropped and counted (`queueFull`). For a stream you own, lines stop while its own buffer
   * (`writableLength`) is past it. Default {@link DEFAULT_MAX_QUEUE_BYTES}.
   */
  maxQueueBytes?: number
  /** Default 'stdout'. */
  name?: string
}

export const DEFAULT_BUFFER_BYTES = 4096
export const DEFAULT_FLUSH_INTERVAL_MS = 1000
// Lines wait for at most this much before a write (it was sonic-boom's limit on minLength, below its 16 KiB maxWrite).
const MAX_BUFFER_BYTES = 16_383

// pino's level numbers (pino.levels.values): fixed by its line format, which log tooling reads.
// Spelled here so the collector does not load pino to write lines (see streamSend).
const LEVEL_VALUES: Readonly<Record<Level, number>> = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10 }
const LEVELS = new Set<string>(Object.keys(LEVEL_VALUES))
// pino.symbols.needsMetadataGsym: a global symbol, so it is known without loading pino.
const PINO_METADATA = Symbol.for('pino.metadata')
const MESSAGE = 'analytics event'
// The end of the line pino writes for `logger[level]({ event }, MESSAGE)` with messageKey 'msg'.
const LINE_END = `,"msg":${JSON.stringify(MESSAGE)}}\n`
// Like the HTTP collectors: a misspelt option (`dest`, `minLength`) is refused, never ignored.
// (`satisfies` fails the build when the options interface gains a key that is not listed here.)
const OWN_OPTION_KEYS = new Set(Object.keys({
  destination: true, level: true, bufferBytes: true, flushIntervalMs: true, maxQueueBytes: true, name: true, ip: true, events: true
} as const satisfies Record<keyof StdoutCollectorOptions, true>))
const invalidOption = optionErrors('stdoutCollector')

/**
 * One NDJSON line per event in pino's format, written off the request path (one write per many
 * lines). For development, CI and log pipelines. A destination that fails or stalls never crashes
 * or holds the app: its lines are counted (`failed`, `queueFull`, `shutdown`) in `stats()`.
 */
export function stdoutCollector (options: StdoutCollectorOptions = {}): AnalyticsCollector {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, 'stdout', invalidOption, 'destination, level, bufferBytes, flushIntervalMs, maxQueueBytes, ip or name (all optional)')
  const level = options.level ?? 'info'
  if (!LEVELS.has(level)) throw invalidOption(`level must be one of ${[...LEVELS].join(', ')}`)
  const bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES
  if (!Number.isInteger(bufferBytes) || bufferBytes < 0 || bufferBytes > MAX_BUFFER_BYTES) {
    throw invalidOption(`bufferBytes must be an integer from 0 to ${MAX_BUFFER_BYTES}`)
  }
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS
  if (!Number.isInteger(flushIntervalMs) || flushIntervalMs <= 0 || flushIntervalMs > MAX_TIMER_MS) {
    throw invalidOption('flushIntervalMs must be a positive integer number of milliseconds')
  }
  const maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES
  if (!Number.isSafeInteger(maxQueueBytes) || maxQueueBytes < 1 || maxQueueBytes > MAX_TIMER_MS) {
    throw invalidOption(`maxQueueBytes must be an integer from 1 to ${MAX_TIMER_MS}`)
  }
  const ip = ipPolicyOption(options.ip, 'truncate', invalidOption)
  const wants = eventsFilter(options.events, EVERY_EVENT, invalidOption)
  const destination = options.destination ?? 1
  const owned = typeof destination === 'number' || typeof destination === 'string'
  if (!owned && (destination === null || typeof destination !== 'object' || typeof destination.write !== 'function')) {
    throw invalidOption('destination must be a file descriptor, a path or a writable stream')
  }
  // The line pino would write (no pid/hostname base fields: the event carries its own `hostname`, and
  // these lines are data), assembled here around the event's shared JSON string: pino would serialise
  // the event again, and it has no raw-JSON field before JSON.rawJSON (Node 21).
  const linePrefix = `{"level":${LEVEL_VALUES[level]},"time":`
  const line = (event: Readonly<AnalyticsEvent>): string =>
    linePrefix + Date.now() + ',"event":' + eventJSONString(event, ip) + LINE_END
  let log = new RateLimitedLog(silentLogger)
  const currentLog = (): RateLimitedLog => log
  // Nothing is opened here: in worker mode this factory also runs on the request thread, where the
  // collector is only a description and must hold no descriptor, timer or listener.
  const writer = owned
    ? new LineWriter(new FdWriter({ destination, bufferBytes, flushIntervalMs, maxQueueBytes }, currentLog), line)
    : new StreamWriter<Readonly<AnalyticsEvent>>(destination, streamSend(destination, level, line, ip), maxQueueBytes, currentLog)
  let started = false

  return portableCollector({
    name,
    ...(wants === undefined ? {} : { wants }),
    start (_signal: AbortSignal, context: CollectorContext) {
      if (started) return
      started = true
      if (context?.log !== undefined) log = new RateLimitedLog(context.log)
      writer.open(context?.onStatsChange)
    },
    collect (event: Readonly<AnalyticsEvent>) {
      writer.write(event)
    },
    flush: (signal: AbortSignal) => writer.flush(signal),
    close: (signal: AbortSignal) => writer.close(signal),
    stats: () => writer.stats()
  }, 'collectors/stdout.js', 'stdoutCollector', options)
}

/** The fd writer, fed events: the line is made in collect (the event is only ours during that call). */
class LineWriter {
  readonly #writer: FdWriter
  readonly #line: (event: Readonly<AnalyticsEvent>) => string

  constructor (writer: FdWriter, line: (event: Readonly<AnalyticsEvent>) => string) {
    this.#writer = writer
    this.#line = line
  }

  open (onStatsChange?: LedgerObserver): void { this.#writer.open(onStatsChange) }
  write (event: Readonly<AnalyticsEvent>): void { this.#writer.write(this.#line(event)) }
  flush (signal?: AbortSignal): Promise<void> { return this.#writer.flush(signal) }
  close (signal?: AbortSignal): Promise<void> { return this.#writer.close(signal) }
  stats (): DeliveryReport { return this.#writer.stats() }
}

/** How an event reaches an app's stream: as the line, or through pino for a multistream. */
function streamSend (stream: AppStream, level: Level, line: (event: Readonly<AnalyticsEvent>) => string, ip: IpPolicy): (event: Readonly<AnalyticsEvent>) => void {
  // pino.multistream routes by the level pino records on the stream before each write: such a stream
  // gets its lines from pino itself. The logger's level is the lines' level, so pino's level filter
  // never drops one.
  if (Reflect.get(stream, PINO_METADATA) === true) {
    // Loaded only here: importing pino costs an app about 20 ms of start, and only a multistream needs it.
    const pino = createRequire(libPath('collectors/stdout.js'))('pino') as typeof import('pino')
    const logger = pino.pino({ level, base: undefined, messageKey: 'msg' }, stream)
    return (event) => {
      const json = eventToJSON(event)
      json.clientIP = collectorIp(event, ip)
      logger[level]({ event: json }, MESSAGE)
    }
  }
  return (event) => { stream.write(line(event)) }
}
