import type { AnalyticsCollector } from '../collector.js'
import { describeForWorker } from '../worker/descriptor.js'

/**
 * How a built-in factory returns its collector: with the module and export that rebuild it from
 * `options`, so `delivery: 'worker'` can run it in the delivery worker. The one place outside
 * lib/worker/ that collectors reach it through. `module` is the factory's module relative to lib/
 * (`'collectors/ga4.js'`), one spelling for both builds.
 */
export function portableCollector<C extends AnalyticsCollector> (collector: C, module: string, factory: string, options: unknown): C {
  return describeForWorker(collector, module, factory, options)
}
