import type { FastifyBaseLogger } from 'fastify'
import { noop } from './util.js'

/** The logging surface the package needs: Fastify's logger (pino) satisfies it. */
export type Logger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error' | 'debug' | 'child'>

/** Used before a collector is started with the app's logger. */
export const silentLogger: Logger = {
  info: noop,
  warn: noop,
  error: noop,
  debug: noop,
  child: () => silentLogger as FastifyBaseLogger
} as unknown as Logger

/** One warning line per key per window, so an outage does not flood the log. */
export const DEFAULT_LOG_WINDOW_MS = 10_000

/**
 * Rate-limits log lines by key: the first line of a window is written, the rest are counted
 * and reported (`suppressed`) on the next line written for that key.
 */
export class RateLimitedLog {
  readonly #windowMs: number
  readonly #last = new Map<string, { at: number, suppressed: number }>()
  log: Logger

  constructor (log: Logger, windowMs: number = DEFAULT_LOG_WINDOW_MS) {
    this.log = log
    this.#windowMs = windowMs
  }

  /** `target` makes the logger for a line that is written (a request's, for its `reqId`); default `log`. */
  warn (key: string, fields: Record<string, unknown>, message: string, target?: () => Logger): void {
    this.#write('warn', key, fields, message, target)
  }

  error (key: string, fields: Record<string, unknown>, message: string, target?: () => Logger): void {
    this.#write('error', key, fields, message, target)
  }

  #write (level: 'warn' | 'error', key: string, fields: Record<string, unknown>, message: string, target: (() => Logger) | undefined): void {
    const now = Date.now()
    const entry = this.#last.get(key)
    if (entry !== undefined && now - entry.at < this.#windowMs) {
      entry.suppressed++
      return
    }
    const suppressed = entry?.suppressed ?? 0
    this.#last.set(key, { at: now, suppressed: 0 })
    const log = target === undefined ? this.log : target()
    log[level](suppressed > 0 ? { ...fields, suppressed } : fields, message)
  }
}
