import { Writable } from 'node:stream'
import { pino } from 'pino'
import type { Logger } from '../../lib/log.js'
import { totalDropped, type AnalyticsCollector, type AnalyticsEvent, type CollectorStats } from '../../lib/index.js'

type Member = 'start' | 'collect' | 'flush' | 'close'
export type Misbehaviour = 'throw' | 'reject' | 'hang'

/** A collector that misbehaves in one member the way a buggy user collector would. */
export function faultyCollector (name: string, member: Member, how: Misbehaviour): AnalyticsCollector & { collected: number } {
  const act = (): void | Promise<void> => {
    if (how === 'throw') throw new Error(`${name} ${member} threw`)
    if (how === 'reject') return Promise.reject(new Error(`${name} ${member} rejected`))
    return new Promise<void>(() => {})
  }
  const collector = {
    name,
    collected: 0,
    start: () => member === 'start' ? act() : undefined,
    collect: (_event: Readonly<AnalyticsEvent>) => {
      collector.collected++
      return member === 'collect' ? act() : undefined
    },
    flush: () => member === 'flush' ? act() : undefined,
    close: () => member === 'close' ? act() : undefined
  }
  return collector
}

/** Everything a pino logger wrote: `stream` for Fastify's `logger.stream`, `log` to hand to collectors and engines. */
export interface LogCapture {
  stream: Writable
  log: Logger
  /** Raw chunks as written (one JSON line each). */
  raw: string[]
  /** Parsed lines, filled as they are written. */
  lines: Array<Record<string, unknown>>
  text: () => string
}

export function logCapture (): LogCapture {
  const raw: string[] = []
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      const text = chunk.toString()
      raw.push(text)
      for (const line of text.split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      callback()
    }
  })
  const log = pino({ level: 'trace' }, stream).child({ plugin: 'analytics', collector: 'test' }) as unknown as Logger
  return { stream, log, raw, lines, text: () => raw.join('') }
}

/** The type of `t` in `test('…', async (t) => …)`. */
export type TapTest = Parameters<Parameters<typeof import('tap').test>[0]>[0]

/** After close: accepted = delivered + Σ dropped, every figure a non-negative integer, nothing left over. */
export function assertBalanced (t: TapTest, stats: Record<string, CollectorStats>): void {
  for (const [name, figures] of Object.entries(stats)) {
    const all = [figures.accepted, figures.delivered, figures.retries, figures.queued, figures.inFlight, ...Object.values(figures.dropped)]
    t.ok(all.every((n) => Number.isSafeInteger(n) && n >= 0), `${name}: every figure is a non-negative integer`, { figures })
    t.equal(figures.accepted, figures.delivered + totalDropped(figures.dropped), `${name}: accepted = delivered + Σ dropped`, { figures })
    t.equal(figures.queued + figures.inFlight, 0, `${name}: nothing left queued or in flight`)
  }
}

/**
 * Plugin options for tests about something other than what counts as an event: every GET is a
 * page view and no bot detection (those rules are tested in test/plugin/data-quality.test.ts).
 */
export const COUNT_EVERYTHING = { pageViews: 'all', bots: 'keep' } as const
