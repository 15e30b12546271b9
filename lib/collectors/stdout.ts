import pino, { type DestinationStream, type Level } from 'pino'
import type { AnalyticsCollector } from '../collector.js'
import { eventToJSON, type AnalyticsEvent } from '../event.js'
import { eventJSONString } from '../event-json.js'
import { collectorIp, type IpPolicy } from '../privacy/index.js'
import { MAX_TIMER_MS } from '../util.js'
import { describeForWorker } from '../worker/descriptor.js'
import { checkCollectorOptions, ipPolicyOption, optionErrors } from './options.js'

export interface StdoutCollectorOptions {
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
  /** Default 'stdout'. */
  name?: string
}

export const DEFAULT_BUFFER_BYTES = 4096
export const DEFAULT_FLUSH_INTERVAL_MS = 1000
// Each flush round writes at least one chunk: this bounds a flush whatever the app keeps writing.
const MAX_FLUSH_ROUNDS = 1000
// sonic-boom refuses a minLength at or above its maxWrite (16 KiB).
const MAX_BUFFER_BYTES = 16_383

const LEVELS = new Set<string>(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
const MESSAGE = 'analytics event'
// The end of the line pino writes for `logger[level]({ event }, MESSAGE)` with messageKey 'msg'.
const LINE_END = `,"msg":${JSON.stringify(MESSAGE)}}\n`
// Like the HTTP collectors: a misspelt option (`dest`, `minLength`) is refused, never ignored.
// (`satisfies` fails the build when the options interface gains a key that is not listed here.)
const OWN_OPTION_KEYS = new Set(Object.keys({
  destination: true, level: true, bufferBytes: true, flushIntervalMs: true, name: true, ip: true
} as const satisfies Record<keyof StdoutCollectorOptions, true>))
const invalidOption = optionErrors('stdoutCollector')

type Flushable = DestinationStream & { flush?: (cb?: (err?: Error | null) => void) => void, end?: () => void, once?: (event: string, fn: () => void) => void }

/**
 * One NDJSON line per event in pino's format, on pino's asynchronous destination
 * (sonic-boom buffers and writes off the request path). For development, CI and log pipelines.
 */
export function stdoutCollector (options: StdoutCollectorOptions = {}): AnalyticsCollector {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, 'stdout', invalidOption, 'destination, level, bufferBytes, flushIntervalMs, ip or name (all optional)')
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
  const ip = ipPolicyOption(options.ip, 'truncate', invalidOption)
  const destination = options.destination ?? 1
  const owned = typeof destination === 'number' || typeof destination === 'string'
  if (!owned && (destination === null || typeof destination !== 'object' || typeof destination.write !== 'function')) {
    throw invalidOption('destination must be a file descriptor, a path or a writable stream')
  }
  // Without minLength, sonic-boom hands every line to the thread pool as its own write: measured at
  // 21 µs of CPU per event at 2000 req/s. Buffering a few KiB makes it one write per many lines;
  // periodicFlush (an unref()ed timer) bounds how long a line waits.
  const stream: Flushable = owned
    ? pino.destination({ dest: destination, sync: false, mkdir: true, minLength: bufferBytes, periodicFlush: bufferBytes > 0 ? flushIntervalMs : 0 })
    : destination
  // The line pino would write (no pid/hostname base fields: the event carries its own `hostname`, and
  // these lines are data), assembled here around the event's shared JSON string: pino would serialise
  // the event again, and it has no raw-JSON field before JSON.rawJSON (Node 21). The logger's level is
  // the lines' level, so pino's level filter never drops one: there is none to keep.
  const linePrefix = `{"level":${pino.levels.values[level]},"time":`
  // pino.multistream routes by the level pino records on the stream before each write: such a stream
  // gets its lines from pino itself.
  const logger = Reflect.get(stream, pino.symbols.needsMetadataGsym) === true
    ? pino({ level, base: undefined, messageKey: 'msg' }, stream)
    : undefined
  let closed = false

  function flushOnce (): Promise<void> {
    return new Promise((resolve) => {
      if (typeof stream.flush !== 'function') { resolve(); return }
      try {
        // The error (sonic-boom "not ready" before its first write, fsync on a pipe) changes nothing here.
        stream.flush(() => resolve())
      } catch {
        resolve()
      }
    })
  }

  async function flushStream (signal?: AbortSignal): Promise<void> {
    // sonic-boom calls back on 'drain', which fires once it is back under its high-water mark, not
    // when empty: flush until its buffered length (`_len`, no public equivalent) is zero.
    for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
      await flushOnce()
      if (!(((stream as { _len?: number })._len ?? 0) > 0) || signal?.aborted === true) return
    }
  }

  return describeForWorker({
    name,
    start () {},
    collect (event: Readonly<AnalyticsEvent>) {
      if (logger !== undefined) {
        const json = eventToJSON(event)
        json.clientIP = collectorIp(event, ip)
        logger[level]({ event: json }, MESSAGE)
        return
      }
      stream.write(linePrefix + Date.now() + ',"event":' + eventJSONString(event, ip) + LINE_END)
    },
    flush: (signal: AbortSignal) => flushStream(signal),
    async close () {
      if (closed) return
      closed = true
      await flushStream()
      if (owned && typeof stream.end === 'function') {
        await new Promise<void>((resolve) => {
          stream.once?.('close', resolve)
          stream.end?.()
        })
      }
    }
  }, 'collectors/stdout.js', 'stdoutCollector', options)
}
