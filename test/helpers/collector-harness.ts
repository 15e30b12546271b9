import { pino } from 'pino'
import { totalDropped, type AnalyticsCollector, type DeliveryReport } from '../../lib/collector.js'
import type { AnalyticsEvent } from '../../lib/event.js'
import type { Logger } from '../../lib/log.js'
import { startSink, type Sink, type SinkOptions } from './sink.js'
import type { TapTest } from './collectors.js'

/** Every line a pino logger wrote, raw and parsed. */
export interface LogCapture {
  log: Logger
  /** Raw lines (one JSON document each). */
  raw: string[]
  lines: () => Array<Record<string, unknown>>
  text: () => string
}

export function captureLog (): LogCapture {
  const raw: string[] = []
  const log = pino({ level: 'debug' }, { write (chunk: string) { raw.push(chunk) } }) as unknown as Logger
  return {
    log,
    raw,
    lines: () => raw.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => raw.join('')
  }
}

type ReportingCollector = AnalyticsCollector & { stats (): DeliveryReport }

/** One collector started against one validating sink, with the accounting checked at the end. */
export interface CollectorHarness<C extends ReportingCollector> {
  sink: Sink
  collector: C
  logs: LogCapture
  collected: number
  collect: (event: AnalyticsEvent) => void
  /** Flushes and closes the collector, then asserts the invariant and that the sink saw no rule violation. */
  finish: () => Promise<DeliveryReport>
}

export async function collectorHarness<C extends ReportingCollector> (
  t: TapTest,
  sinkOptions: SinkOptions,
  create: (sink: Sink) => C,
  rules: string
): Promise<CollectorHarness<C>> {
  const sink = await startSink(sinkOptions)
  const collector = create(sink)
  const logs = captureLog()
  collector.start(new AbortController().signal, { log: logs.log })
  let finished = false
  t.teardown(async () => {
    if (!finished) await collector.close(AbortSignal.timeout(2000))
    await sink.close()
  })
  const harness: CollectorHarness<C> = {
    sink,
    collector,
    logs,
    collected: 0,
    collect (event) {
      harness.collected++
      collector.collect(event)
    },
    async finish () {
      await collector.flush(AbortSignal.timeout(5000))
      await collector.close(AbortSignal.timeout(5000))
      finished = true
      const report = collector.stats()
      t.equal(report.delivered + totalDropped(report.dropped), harness.collected, 'accepted = delivered + Σ dropped')
      t.equal(report.queued, 0, 'nothing left queued')
      t.equal(report.inFlight, 0, 'nothing left in flight')
      t.same(sink.violations, [], rules)
      return report
    }
  }
  return harness
}
