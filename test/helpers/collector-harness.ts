import { totalDropped, type AnalyticsCollector, type DeliveryReport } from '../../lib/collector.js'
import type { AnalyticsEvent } from '../../lib/event.js'
import { startSink, type Sink, type SinkOptions } from './sink.js'
import { logCapture, type LogCapture, type TapTest } from './collectors.js'

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
  const logs = logCapture()
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
