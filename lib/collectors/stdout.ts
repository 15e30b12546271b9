import pino, { type DestinationStream, type Level } from 'pino'
import type { AnalyticsCollector } from '../collector.js'
import { eventToJSON, type AnalyticsEvent } from '../event.js'
import { FST_ANALYTICS_INVALID_OPTION } from '../errors.js'

export interface StdoutCollectorOptions {
  /**
   * Where lines go: a file descriptor (default 1, stdout), a file path, or a stream you own
   * (it is flushed, never closed, by the collector).
   */
  destination?: number | string | DestinationStream
  /** pino level of the lines. Default 'info'. */
  level?: Level
  /** Default 'stdout'. */
  name?: string
}

const LEVELS = new Set<string>(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])

type Flushable = DestinationStream & { flush?: (cb?: (err?: Error | null) => void) => void, end?: () => void, once?: (event: string, fn: () => void) => void }

/**
 * One NDJSON line per event, written by pino on an asynchronous destination
 * (sonic-boom buffers and writes off the request path). For development, CI and log pipelines.
 */
export function stdoutCollector (options: StdoutCollectorOptions = {}): AnalyticsCollector {
  if (options === null || typeof options !== 'object') throw new FST_ANALYTICS_INVALID_OPTION('stdoutCollector options must be an object')
  const level = options.level ?? 'info'
  if (!LEVELS.has(level)) throw new FST_ANALYTICS_INVALID_OPTION(`stdoutCollector level must be one of ${[...LEVELS].join(', ')}`)
  const name = options.name ?? 'stdout'
  if (typeof name !== 'string' || name.length === 0) throw new FST_ANALYTICS_INVALID_OPTION('stdoutCollector name must be a non-empty string')
  const destination = options.destination ?? 1
  const owned = typeof destination === 'number' || typeof destination === 'string'
  if (!owned && (destination === null || typeof destination !== 'object' || typeof destination.write !== 'function')) {
    throw new FST_ANALYTICS_INVALID_OPTION('stdoutCollector destination must be a file descriptor, a path or a writable stream')
  }
  const stream: Flushable = owned ? pino.destination({ dest: destination, sync: false, mkdir: true }) : destination
  // No pid/hostname base fields: the event carries its own `hostname`, and these lines are data.
  const logger = pino({ level, base: undefined, messageKey: 'msg' }, stream)
  let closed = false

  function flushStream (): Promise<void> {
    return new Promise((resolve) => {
      if (typeof stream.flush !== 'function') { resolve(); return }
      try {
        stream.flush((error) => {
          // sonic-boom reports "not ready" before its first write: nothing to flush then.
          void error
          resolve()
        })
      } catch {
        resolve()
      }
    })
  }

  return {
    name,
    start () {},
    collect (event: Readonly<AnalyticsEvent>) {
      logger[level]({ event: eventToJSON(event) }, 'analytics event')
    },
    flush: flushStream,
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
  }
}
